"""Reads for the task page, the admin and the contact timeline. Nothing here writes."""

from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.accounts.models import User
from apps.contacts.models import Contact
from apps.contacts.selectors import TimelineEntry
from apps.routing.models import OPEN_STATUSES, FollowUpTask
from apps.routing.services.work import REASSIGN, teams_managed_by

VIEW = "routing.view_followuptask"
TIMELINE_SOURCE = "routing"  # the name task_timeline_entries is registered under


def tasks_visible_to(user: User) -> QuerySet[FollowUpTask]:
    """A rep sees their own tasks; a manager also every task of the teams they manage;
    an admin everything. Anyone else: nothing."""
    if not user.is_authenticated or not user.is_active or not user.has_perm(VIEW):
        return FollowUpTask.objects.none()
    tasks = FollowUpTask.objects.select_related("contact", "owner", "team")
    if user.is_superuser:
        return tasks
    visible = Q(owner=user)
    if user.has_perm(REASSIGN):
        visible |= Q(team__in=teams_managed_by(user))
    return tasks.filter(visible)


def tasks_for_page(user: User) -> QuerySet[FollowUpTask]:
    """Open tasks the user sees, the most urgent due first."""
    return tasks_visible_to(user).filter(status__in=OPEN_STATUSES).order_by("due_at", "priority")


def tasks_recently_closed(user: User, limit: int = 10) -> list[FollowUpTask]:
    return list(
        tasks_visible_to(user)
        .exclude(status__in=OPEN_STATUSES)
        .order_by("-completed_at", "-id")[:limit]
    )


def new_task_count(user: User) -> int:
    """The in-app badge: the user's open tasks they have not opened yet."""
    if not user.is_authenticated:
        return 0
    return FollowUpTask.objects.filter(owner=user, status__in=OPEN_STATUSES, seen_at=None).count()


def task_timeline_entries(
    contact: Contact, limit: int, tasks: QuerySet[FollowUpTask] | None = None
) -> list[TimelineEntry]:
    """Follow-up tasks on the contact's timeline: all of them, or those among `tasks`."""
    tasks = (
        (FollowUpTask.objects.all() if tasks is None else tasks)
        .filter(contact=contact)
        .select_related("owner", "team")
        .order_by("-created_at")[:limit]
    )
    return [
        TimelineEntry(
            at=task.created_at,
            kind="task",
            title=f"Follow-up task: {task.reason}",
            detail=_task_detail(task),
            url=reverse("admin:routing_followuptask_change", args=[task.pk]),
        )
        for task in tasks
    ]


def _task_detail(task: FollowUpTask) -> str:
    owner = task.owner.display_name if task.owner else f"{task.team} queue"
    parts = [task.get_status_display(), owner]
    if task.outcome:
        parts.append(task.get_outcome_display())
    if task.breached_at:
        parts.append("SLA breached")
    return " · ".join(parts)
