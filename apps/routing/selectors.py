"""Reads for the task page, the admin and the contact timeline. Nothing here writes."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.template.defaultfilters import pluralize
from django.urls import reverse

from apps.accounts.models import User
from apps.contacts.models import Contact
from apps.contacts.selectors import TimelineEntry
from apps.routing.models import OPEN_STATUSES, FollowUpTask
from apps.routing.services.work import REASSIGN, WORK, teams_managed_by

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
    if user.team_id and user.has_perm(WORK):
        visible |= Q(owner=None, team_id=user.team_id)  # the team queue, to take from
    if user.has_perm(REASSIGN):
        visible |= Q(team__in=teams_managed_by(user))
    return tasks.filter(visible)


def tasks_for_page(user: User) -> QuerySet[FollowUpTask]:
    """Open tasks the user works (a manager: the team's), the most urgent due first; a rep's
    team queue is listed apart (team_queue)."""
    tasks = tasks_visible_to(user).filter(status__in=OPEN_STATUSES)
    if not user.is_superuser and not user.has_perm(REASSIGN):
        tasks = tasks.exclude(owner=None)
    return tasks.order_by("due_at", "priority")


def team_queue(user: User) -> QuerySet[FollowUpTask]:
    """The open tasks waiting in the rep's team queue, for the rep to take; the first due first.
    A manager sees them among the team's tasks instead."""
    if not user.is_authenticated or not user.team_id or user.has_perm(REASSIGN):
        return FollowUpTask.objects.none()
    return (
        tasks_visible_to(user)
        .filter(status__in=OPEN_STATUSES, owner=None, team_id=user.team_id)
        .order_by("due_at", "priority")
    )


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
    if task.outcome_note:
        parts.append(f"“{task.outcome_note[:200]}”")  # the rep's own words
    if task.breached_at:
        parts.append("SLA breached")
    return " · ".join(parts)


def working_hours_resume(user: User, at: datetime) -> datetime | None:
    """When the user's next working window opens after `at` (None: they are working now, or
    have no working hours, which counts as always working)."""
    hours = list(user.working_hours.all())
    if not hours:
        return None
    zone = ZoneInfo(user.time_zone)
    local = at.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for window in sorted((h for h in hours if h.weekday == day.weekday()), key=_opens):
            opens = datetime.combine(day, window.starts_at, tzinfo=zone)
            closes = datetime.combine(day, window.ends_at, tzinfo=zone)
            if opens <= local < closes:
                return None
            if opens > local:
                return opens
    return None


def _opens(window) -> time:
    return window.starts_at


def empty_list_explained(user: User, waiting: int, at: datetime) -> str:
    """Why the rep's own list is empty, in one sentence: what waits in the team queue, and
    when their working hours start again if they are outside them."""
    parts = []
    if waiting and user.team_id:
        parts.append(
            f"{waiting} task{pluralize(waiting)} wait{'' if waiting > 1 else 's'} in {user.team}"
        )
    elif user.team_id:
        parts.append(f"Nothing waits in the {user.team} queue")
    else:
        parts.append("You are in no team, so no queue is yours")
    resume = working_hours_resume(user, at)
    if resume is not None:
        parts.append(f"you are outside working hours until {resume:%a %H:%M}")
    elif waiting:
        parts.append("take one below")
    return "; ".join(parts) + "."
