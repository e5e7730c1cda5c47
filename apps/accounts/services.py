import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from phonenumber_field.phonenumber import to_python

from apps.accounts.models import BRAND_ID, Brand, PhoneVerification, Team, User, WorkingHours
from apps.accounts.roles import ADMIN, ROLES, STAFF_ROLES
from apps.core.errors import CueError

SYSTEM_USERNAME = "cue-system"


class AccountsError(CueError):
    pass


def system_user() -> User:
    """The actor recorded for what Cue decides on its own (beat tasks, keyword opt-outs)."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "Cue", "last_name": "system", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_role_set(*, user: User, role: str) -> User:
    """Gives the user exactly one role; staff access follows the role."""
    if role not in ROLES:
        raise AccountsError(f"Unknown role {role!r}.", field="role")
    user.groups.set([Group.objects.get(name=role)])
    is_staff, is_superuser = role in STAFF_ROLES, role == ADMIN
    if (user.is_staff, user.is_superuser) != (is_staff, is_superuser):
        user.is_staff, user.is_superuser = is_staff, is_superuser
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    phone: str = "",
    time_zone: str = "America/New_York",
) -> User:
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        phone=phone,
        time_zone=time_zone,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user_role_set(user=user, role=role)


@transaction.atomic
def working_hours_set(*, user: User, windows: dict[int, tuple]) -> list[WorkingHours]:
    """Replaces the user's week with {weekday: (start, end)}; absent days are off."""
    current = list(user.working_hours.order_by("weekday"))
    if [(h.weekday, h.starts_at, h.ends_at) for h in current] == [
        (day, start, end) for day, (start, end) in sorted(windows.items())
    ]:
        return current
    user.working_hours.all().delete()
    return [
        WorkingHours.objects.create(user=user, weekday=day, starts_at=start, ends_at=end)
        for day, (start, end) in sorted(windows.items())
    ]


@transaction.atomic
def user_phone_set(*, user: User, phone: str) -> User:
    """Sets the user's phone; a different number is no longer verified. Compares with the
    stored row, so it also works on an instance a form has already changed."""
    number = to_python(phone) if phone else ""
    if number and not number.is_valid():
        raise AccountsError(f"{phone!r} is not a valid phone number.", field="phone")
    stored = User.objects.select_for_update().values_list("phone", flat=True).get(pk=user.pk)
    user.phone = number
    if str(stored or "") == str(number or ""):
        return user
    user.phone_verified_at = None
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


VERIFICATION_TTL = timedelta(minutes=10)
VERIFICATION_STARTS = 3  # per user per VERIFICATION_TTL
VERIFICATION_ATTEMPTS = 5
_PHONE_CHANGED = "Your phone number changed since this code was sent; ask for a new one."


def _code_hash(code: str) -> str:
    return hashlib.sha256((code + settings.SECRET_KEY).encode()).hexdigest()


@transaction.atomic
def phone_verification_start(*, user: User) -> tuple[PhoneVerification, str]:
    """A new 6-digit code for the user's phone. Returns the code once, for the text that
    carries it; only its hash is stored."""
    # Lock the user row: two requests at once must not both pass the rate limit.
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.phone:
        raise AccountsError("You have no phone number to verify.", field="phone")
    since = timezone.now() - VERIFICATION_TTL
    if user.phone_verifications.filter(created_at__gte=since).count() >= VERIFICATION_STARTS:
        raise AccountsError(
            f"You asked for {VERIFICATION_STARTS} codes in the last 10 minutes; wait a few "
            "minutes and try again.",
            field="phone",
            code="rate_limited",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification.objects.create(
        user=user, phone=user.phone, code_hash=_code_hash(code)
    )
    return verification, code


def phone_verification_confirm(*, user: User, code: str) -> User:
    """Marks the user's phone verified when `code` matches their newest code.

    Not atomic on purpose: a wrong guess must stay counted even though the call fails.
    """
    verification = _code_waiting(user)
    guessed = PhoneVerification.objects.filter(
        pk=verification.pk, used_at=None, attempts__lt=VERIFICATION_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not guessed:
        raise AccountsError(
            "Too many wrong codes; ask for a new one.", field="code", code="too_many_attempts"
        )
    if not hmac.compare_digest(verification.code_hash, _code_hash(code.strip())):
        raise AccountsError("That code is not right.", field="code", code="wrong_code")
    return _phone_verified(user=user, verification=verification)


def _code_waiting(user: User) -> PhoneVerification:
    """The user's newest code, if it may still be tried: asking for a new code retires the
    ones before it."""
    verification = user.phone_verifications.first()
    if verification is None or verification.used_at is not None:
        raise AccountsError("No code is waiting; ask for a new one.", field="code", code="no_code")
    if verification.created_at < timezone.now() - VERIFICATION_TTL:
        raise AccountsError(
            "This code has expired; ask for a new one.", field="code", code="expired"
        )
    if str(verification.phone) != str(User.objects.get(pk=user.pk).phone):
        raise AccountsError(_PHONE_CHANGED, field="code", code="phone_changed")
    return verification


@transaction.atomic
def _phone_verified(*, user: User, verification: PhoneVerification) -> User:
    now = timezone.now()
    used = PhoneVerification.objects.filter(pk=verification.pk, used_at=None).update(used_at=now)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not used:
        raise AccountsError("No code is waiting; ask for a new one.", field="code", code="no_code")
    if str(locked.phone) != str(verification.phone):
        raise AccountsError(_PHONE_CHANGED, field="code", code="phone_changed")
    user.phone, user.phone_verified_at = locked.phone, now
    user.save(update_fields=["phone_verified_at"])
    return user


@transaction.atomic
def brand_save(*, changed_by: User | None = None, reason: str = "", **fields) -> Brand:
    """Sets the account's brand (the one row), recorded in its history with who and why.
    Nothing caches it: the next lint run and keyword reply read the new values."""
    stored = Brand.objects.select_for_update().filter(pk=BRAND_ID).first()
    if stored is not None and all(getattr(stored, n) == v for n, v in fields.items()):
        return stored  # nothing changes: no history row saying so (seed_demo runs twice)
    brand = stored or Brand(pk=BRAND_ID)
    for name, value in fields.items():
        setattr(brand, name, value)
    brand.full_clean()
    brand._history_user = changed_by or system_user()
    brand._change_reason = reason
    brand.save()
    return brand
