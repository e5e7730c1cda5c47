"""Setting up a second factor, proving it, and recovery codes."""

from django.db import transaction
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.two_factor.selectors import recovery_device, totp_device_confirmed

RECOVERY_CODES = 10
AUTHENTICATOR = "Authenticator app"


def totp_device_pending(*, user) -> TOTPDevice:
    """The authenticator being set up: the same secret until it is confirmed, so that a
    reloaded setup page shows the QR code the user already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


@transaction.atomic
def totp_device_confirm(*, request, code: str) -> list[str] | None:
    """Confirms the pending authenticator with a code it made, replaces any earlier one,
    marks this session verified and answers fresh recovery codes; None for a wrong code."""
    user = request.user
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(code.strip()):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return recovery_codes_renew(user=user)


@transaction.atomic
def recovery_codes_renew(*, user) -> list[str]:
    """New recovery codes, each good once; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def two_factor_verify(*, request, code: str) -> bool:
    """Proves the session with a code from the authenticator, or a recovery code (used up).
    Wrong codes slow the authenticator down (django-otp's throttle doubles its wait)."""
    user, code = request.user, "".join(code.split())
    totp = totp_device_confirmed(user)
    device = None
    if totp is not None and code.isdigit() and len(code) == totp.digits:
        device = verify_token(user, totp.persistent_id, code)
    elif (recovery := recovery_device(user)) is not None:
        device = verify_token(user, recovery.persistent_id, code.lower())
    if device is None:
        return False
    otp_login(request, device)
    return True


@transaction.atomic
def two_factor_remove(*, user) -> None:
    """Turns the second factor off (an admin resetting a lost phone does the same by deleting
    the user's devices in the admin)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
