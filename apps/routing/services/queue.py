"""The team queue: a rep takes a task nobody owns. Two reps taking the same task race on one
conditional UPDATE; the one whose UPDATE changed the row has it, the other is told who did."""

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.history import CHANGED, history_rows_insert
from apps.routing.errors import RoutingError
from apps.routing.models import OPEN_STATUSES, AssignmentKind, FollowUpTask
from apps.routing.services.work import WORK, task_changed_tell


def task_may_take(user: User, task: FollowUpTask) -> bool:
    """A rep of the task's team (or an admin) may take its tasks; only one that still waits
    in the queue is taken (task_take's claim decides, not this)."""
    if not user.is_active or not user.has_perm(WORK):
        return False
    return user.is_superuser or (user.team_id is not None and user.team_id == task.team_id)


def tasks_takeable_by(user: User):
    """Where a take finds its task: every task of the rep's team, so that a rep who lost the
    race hears who won instead of a 404."""
    if not user.is_active or not user.has_perm(WORK):
        return FollowUpTask.objects.none()
    if user.is_superuser:
        return FollowUpTask.objects.select_related("team")
    return FollowUpTask.objects.filter(team_id=user.team_id or 0).select_related("team")


@transaction.atomic
def task_take(*, task: FollowUpTask, actor: User) -> FollowUpTask:
    """The task becomes the actor's if it still waits in the queue, else RoutingError."""
    if not task_may_take(actor, task):
        raise RoutingError("Only a rep of the task's team may take it.", code="permission_denied")
    now = timezone.now()
    claimed = FollowUpTask.objects.filter(
        pk=task.pk, owner=None, team_id=task.team_id, status__in=OPEN_STATUSES
    ).update(
        owner=actor,
        assignment=AssignmentKind.TAKEN,
        assigned_at=now,
        seen_at=now,
        assignment_note=f"Taken from the {task.team} queue by {actor.display_name}."[:300],
    )
    if claimed != 1:
        raise RoutingError(_taken_by_whom(task.pk), code="taken")
    taken = FollowUpTask.objects.filter(pk=task.pk)
    reason = f"Taken from the queue by {actor.username}"
    history_rows_insert(taken, history_type=CHANGED, reason=reason, user_id=actor.pk, at=now)
    task = taken.select_related("contact", "owner", "team").get()
    task_changed_tell(task, reason)
    return task


def _taken_by_whom(pk: int) -> str:
    task = FollowUpTask.objects.select_related("owner").get(pk=pk)
    if task.owner is not None:
        return f"{task.owner.display_name} took this task first."
    return f"This task is {task.get_status_display().lower()}; there is nothing to take."
