"""The manager's board: the team's open follow-ups grouped by team and rep (the team queue
as its own group) or by contact, filtered by team, rep, priority, SLA state and status,
sorted by due time or priority, with a count per group.
Reads only; the tasks come from `tasks_for_page`, so a manager sees only their teams'."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.routing.models import FollowUpTask
from apps.routing.selectors import tasks_for_page

QUEUE = 0  # the rep filter's value for "waiting in the team queue"


class SlaState(models.TextChoices):
    BREACHED = "breached", "Breached"
    DUE_SOON = "due_soon", "Due soon"
    OK = "ok", "OK"


class GroupBy(models.TextChoices):
    REP = "rep", "Team and rep"
    CONTACT = "contact", "Contact"


class SortBy(models.TextChoices):
    DUE = "due", "Due time"
    PRIORITY = "priority", "Priority, then due time"


@dataclass(frozen=True)
class BoardFilters:
    team_id: int | None = None
    owner_id: int | None = None  # QUEUE: the unassigned ones
    priority: int | None = None
    sla: str = ""
    status: str = ""  # one of the open statuses; empty: both
    group_by: str = GroupBy.REP
    sort: str = SortBy.DUE


@dataclass
class BoardGroup:
    team: str  # by contact: the contact's name
    owner: str  # the rep's name, or "Team queue"; by contact: how many reps work them
    tasks: list[FollowUpTask] = field(default_factory=list)

    @property
    def breached(self) -> int:
        return sum(1 for task in self.tasks if task.sla_now == SlaState.BREACHED)


def sla_state_q(state: str, now: datetime) -> Q:
    """Open tasks in one SLA state at `now`: breached (marked, or past due untouched), due
    soon (untouched and past the warning time), or OK (everything else)."""
    untouched = Q(first_touch_at=None, breached_at=None)
    breached = Q(breached_at__isnull=False) | (untouched & Q(due_at__lte=now))
    due_soon = untouched & Q(warn_at__lte=now, due_at__gt=now)
    return {SlaState.BREACHED: breached, SlaState.DUE_SOON: due_soon}.get(
        state, ~breached & ~due_soon
    )


def task_sla_now(task: FollowUpTask, now: datetime) -> str:
    """The same three states for one task already read (no query)."""
    if task.breached_at or (task.first_touch_at is None and task.due_at <= now):
        return SlaState.BREACHED
    if task.first_touch_at is None and task.warn_at <= now:
        return SlaState.DUE_SOON
    return SlaState.OK


def board_tasks(user: User, filters: BoardFilters, now: datetime) -> QuerySet[FollowUpTask]:
    tasks = tasks_for_page(user)
    if filters.team_id is not None:
        tasks = tasks.filter(team_id=filters.team_id)
    if filters.owner_id == QUEUE:
        tasks = tasks.filter(owner=None)
    elif filters.owner_id is not None:
        tasks = tasks.filter(owner_id=filters.owner_id)
    if filters.priority is not None:
        tasks = tasks.filter(priority=filters.priority)
    if filters.sla:
        tasks = tasks.filter(sla_state_q(filters.sla, now))
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    if filters.sort == SortBy.PRIORITY:
        tasks = tasks.order_by("priority", "due_at", "pk")
    return tasks


def board_groups(
    tasks: list[FollowUpTask], now: datetime, group_by: str = GroupBy.REP
) -> list[BoardGroup]:
    """The tasks, in their order within each group: by team, then rep (each team's queue
    first); or by contact, the contact whose first task comes first leading."""
    for task in tasks:
        task.sla_now = task_sla_now(task, now)
    if group_by == GroupBy.CONTACT:
        return _by_contact(tasks)
    groups: dict[tuple, BoardGroup] = {}
    for task in tasks:
        team = task.team.name if task.team else "No team"
        owner = task.owner.display_name if task.owner else "Team queue"
        key = (team, task.owner is not None, owner)
        groups.setdefault(key, BoardGroup(team=team, owner=owner)).tasks.append(task)
    return [groups[key] for key in sorted(groups)]


def _by_contact(tasks: list[FollowUpTask]) -> list[BoardGroup]:
    groups: dict[int, BoardGroup] = {}
    for task in tasks:
        group = groups.setdefault(task.contact_id, BoardGroup(team=str(task.contact), owner=""))
        group.tasks.append(task)
    for group in groups.values():
        owners = {task.owner.display_name if task.owner else "Team queue" for task in group.tasks}
        group.owner = ", ".join(sorted(owners))
    return list(groups.values())  # dicts keep the order of each contact's first task
