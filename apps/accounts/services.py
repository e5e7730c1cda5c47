from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import Team, User, WorkingHours
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
