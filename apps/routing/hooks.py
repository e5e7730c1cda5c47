"""What routing tells the apps above it: a follow-up task was created, updated or completed.

Fired from the same places as the task webhooks (`task.created`, `task.updated`,
`task.completed`), inside the same transaction: a task routed, a signal added to an open
task, started, replied to, reassigned, handed back, completed (with its outcome), and the
SLA sweep's breaches (once for the whole batch). See `apps.core.hooks` for how handlers run.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from apps.core.hooks import Hook, Listening
from apps.routing.models import FollowUpTask

CREATED, UPDATED, COMPLETED = "created", "updated", "completed"


@dataclass(frozen=True, slots=True)
class TaskChange:
    task_id: int
    contact_id: int
    change: str  # created, updated or completed
    reason: str  # what happened, in words (as in the task's history)
    status: str
    outcome: str  # set once completed
    owner_id: int | None
    team_id: int | None
    priority: int
    due_at: datetime | None
    completed_at: datetime | None
    at: datetime

    @property
    def key(self) -> str:
        return f"task:{self.task_id}:{self.change}:{self.at.isoformat()}"


task_change_hook: Hook[TaskChange] = Hook("routing.task_change")


def task_change_handler_register(
    name: str, handler: Callable[[list[TaskChange]], None], *, listening: Listening | None = None
) -> None:
    task_change_hook.register(name, handler, listening=listening)


def task_changes_fire(task_ids: Iterable[int], *, change: str, reason: str, at: datetime) -> None:
    """The tasks as they are now (just saved), read in one query if anyone listens."""
    ids = list(task_ids)
    if ids:
        task_change_hook.fire(lambda: _changes_read(ids, change, reason, at))


def _changes_read(ids: list[int], change: str, reason: str, at: datetime) -> list[TaskChange]:
    rows = FollowUpTask.objects.filter(pk__in=ids).order_by("pk")
    fields = ["pk", "contact_id", "status", "outcome", "owner_id", "team_id", "priority"]
    return [
        TaskChange(
            task_id=row["pk"],
            contact_id=row["contact_id"],
            change=change,
            reason=reason,
            status=row["status"],
            outcome=row["outcome"],
            owner_id=row["owner_id"],
            team_id=row["team_id"],
            priority=row["priority"],
            due_at=row["due_at"],
            completed_at=row["completed_at"],
            at=at,
        )
        for row in rows.values(*fields, "due_at", "completed_at")
    ]
