"""Second-factor helpers for tests: an authenticator for a user, the code it shows now, and
a signed-in session that has proved it (apps/accounts/two_factor)."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.two_factor.selectors import two_factor_required


def authenticator_for(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def code_now(device: TOTPDevice) -> str:
    """The code the app shows now. A code is good once: forget the last one used, so a test
    may sign the same user in twice within one 30-second step."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def session_verified(client, user) -> None:
    """Marks a test client's session as having proved `user`'s second factor, as
    django_otp.login does after a code."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
    session.save()


def login_verifying_two_factor(original_login):
    """Client.force_login (and login) for the suite: a user whose role requires a second
    factor gets a session that proved one, so tests about other things are not sent to the
    two-factor pages. Tests of the second factor sign in through the login form."""

    def _login(client, user, backend=None):
        original_login(client, user, backend)
        if two_factor_required(user):
            session_verified(client, user)

    return _login
