"""Who gets a task: the contact's owner if they are working, else the next rep in the team's
rotation who is working and has room, else the team's queue."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count

from apps.accounts.models import Team, User
from apps.accounts.roles import SALES_REP
from apps.contacts.models import Contact
from apps.routing.models import AssignmentKind, FollowUpTask, RoutingRule, Strategy, TeamCursor


@dataclass(frozen=True)
class Assignment:
    owner: User | None
    team: Team
    kind: str
    note: str


def rep_is_working(user: User, at: datetime) -> bool:
    """Inside one of the user's working windows, in the user's own time zone. Someone with no
    working hours set is treated as always available."""
    hours = list(user.working_hours.all())  # prefetched by the callers that loop
    if not hours:
        return True
    local = at.astimezone(ZoneInfo(user.time_zone))
    return any(
        h.weekday == local.weekday() and h.starts_at <= local.time() < h.ends_at for h in hours
    )


def local_time_label(user: User, at: datetime) -> str:
    local = at.astimezone(ZoneInfo(user.time_zone))
    return f"{local:%a %H:%M} {user.time_zone}"


def assignee_choose(
    *, rule: RoutingRule, contact: Contact, at: datetime, claim: bool = True
) -> Assignment:
    """Applies the rule's strategy. With claim=False (a dry run) the rotation is only read."""
    notes: list[str] = []
    if rule.strategy == Strategy.OWNER_FIRST:
        owner = _owner(contact)
        if owner is None:
            notes.append("The contact has no owner")
        elif not owner.is_active:
            notes.append(f"The owner {owner.display_name} is inactive")
        elif not rep_is_working(owner, at):
            notes.append(
                f"The owner {owner.display_name} is out of working hours "
                f"({local_time_label(owner, at)})"
            )
        else:
            return Assignment(
                owner, owner.team or rule.team, AssignmentKind.OWNER, "The contact's owner."
            )
    if rule.strategy in (Strategy.OWNER_FIRST, Strategy.ROUND_ROBIN):
        rep, why = round_robin_next(team=rule.team, at=at, claim=claim)
        if rep is not None:
            notes.append(f"round robin in {rule.team} chose {rep.display_name}")
            return Assignment(rep, rule.team, AssignmentKind.ROUND_ROBIN, _sentence(notes))
        notes.append(why)
    notes.append(f"the task waits in the {rule.team} queue")
    return Assignment(None, rule.team, AssignmentKind.QUEUE, _sentence(notes))


def _owner(contact: Contact) -> User | None:
    if contact.owner_id is None:
        return None
    return (
        User.objects.prefetch_related("working_hours")
        .select_related("team")
        .get(pk=contact.owner_id)
    )


def _sentence(notes: list[str]) -> str:
    text = "; ".join(notes)
    return (text[:1].upper() + text[1:] + ".")[:300]


def round_robin_next(*, team: Team, at: datetime, claim: bool = True) -> tuple[User | None, str]:
    """The next rep after the team's cursor who is working now and below their open-task
    capacity; moves the cursor to them. The cursor row stays locked until the transaction
    ends, so concurrent signals take turns instead of racing to the same rep."""
    cursor = _cursor_lock(team) if claim else TeamCursor.objects.filter(team=team).first()
    reps = list(
        User.objects.filter(team=team, is_active=True, groups__name=SALES_REP)
        .exclude(pk=team.manager_id or 0)
        .prefetch_related("working_hours")
        .order_by("pk")
    )
    if not reps:
        return None, f"{team} has no active reps"
    working = [rep for rep in reps if rep_is_working(rep, at)]
    if not working:
        return None, f"no rep in {team} is in working hours"
    loads = _open_task_counts(working)
    eligible = [rep for rep in working if loads.get(rep.pk, 0) < rep.open_task_capacity]
    if not eligible:
        return None, f"every working rep in {team} is at capacity"
    after = cursor.last_user_id if cursor and cursor.last_user_id else 0
    chosen = next((rep for rep in eligible if rep.pk > after), eligible[0])
    if claim:
        TeamCursor.objects.filter(pk=cursor.pk).update(last_user=chosen, updated_at=at)
    return chosen, ""


def _cursor_lock(team: Team) -> TeamCursor:
    cursor = TeamCursor.objects.select_for_update().filter(team=team).first()
    if cursor is None:
        TeamCursor.objects.bulk_create([TeamCursor(team=team)], ignore_conflicts=True)
        cursor = TeamCursor.objects.select_for_update().get(team=team)
    return cursor


def _open_task_counts(users: list[User]) -> dict[int, int]:
    rows = (
        FollowUpTask.objects.open()
        .filter(owner__in=users)
        .values("owner")
        .annotate(n=Count("pk"))
        .values_list("owner", "n")
    )
    return dict(rows)
