"""Which second-factor step a signed-in user still owes."""

from django.conf import settings
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

SETUP, VERIFY = "setup", "verify"


def two_factor_required(user) -> bool:
    required = set(settings.OTP_REQUIRED_GROUPS)
    return bool(required) and user.groups.filter(name__in=required).exists()


def totp_device_confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def two_factor_step_owed(user) -> str | None:
    """VERIFY when the user has a second factor this session has not proved, SETUP when
    their role needs one they have not set up, else None."""
    if user.is_verified():
        return None
    if totp_device_confirmed(user) is not None:
        return VERIFY
    return SETUP if two_factor_required(user) else None
