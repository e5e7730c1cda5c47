"""Sign-ins, kept apart from the changes: who signed in, when, from which address, and the
attempts that failed (django-axes' access and failure logs). Reads only."""

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model

from apps.core.db_router import replica_reads

SIGN_INS_PAGE = 100


@dataclass(frozen=True)
class SignIn:
    at: datetime
    username: str
    who: str
    ip_address: str
    succeeded: bool
    detail: str


@dataclass(frozen=True)
class SignInFilters:
    username: str = ""
    outcome: str = ""  # "" (both), "success" or "failure"
    before: datetime | None = None


@replica_reads()
def sign_ins_recent(*, filters: SignInFilters, limit: int = SIGN_INS_PAGE) -> list[SignIn]:
    """The `limit` newest sign-ins and failed attempts (before `filters.before`), newest first."""
    found = []
    if filters.outcome != "failure":
        found += [_success(row) for row in _newest(AccessLog, filters, limit)]
    if filters.outcome != "success":
        found += [_failure(row) for row in _newest(AccessFailureLog, filters, limit)]
    found.sort(key=lambda sign_in: sign_in.at, reverse=True)
    return _named(found[:limit])


def _newest(model, filters: SignInFilters, limit: int) -> list:
    rows = model.objects.order_by("-attempt_time", "-id")
    if filters.username:
        rows = rows.filter(username__iexact=filters.username)
    if filters.before is not None:
        rows = rows.filter(attempt_time__lt=filters.before)
    return list(rows[:limit])


def _success(row: AccessLog) -> SignIn:
    signed_out = f"signed out {row.logout_time:%Y-%m-%d %H:%M}" if row.logout_time else ""
    return SignIn(row.attempt_time, row.username or "", "", row.ip_address or "", True, signed_out)


def _failure(row: AccessFailureLog) -> SignIn:
    detail = "wrong password; locked out" if row.locked_out else "wrong password"
    return SignIn(row.attempt_time, row.username or "", "", row.ip_address or "", False, detail)


def _named(sign_ins: list[SignIn]) -> list[SignIn]:
    """Each row with the person's name where the username is a user's (one query)."""
    usernames = {sign_in.username for sign_in in sign_ins}
    users = get_user_model().objects.filter(username__in=usernames)
    names = {user.username: user.display_name for user in users}
    return [
        SignIn(**{**sign_in.__dict__, "who": names.get(sign_in.username, "unknown username")})
        for sign_in in sign_ins
    ]
