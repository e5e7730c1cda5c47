"""The SLA clock: when a task is due, and the sweep that warns, marks breaches and escalates.

The sweep is set-based: it reads only the tasks that are due (through partial indexes),
claims them with one conditional UPDATE … RETURNING, and writes escalations, history and
notifications for exactly the rows it claimed. A unique (task, kind) constraint
on escalations makes a second warning or breach impossible, even for two sweeps at once.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import system_user
from apps.core.history import CHANGED, history_rows_insert
from apps.routing.hooks import UPDATED, task_changes_fire
from apps.routing.models import (
    AssignmentKind,
    EscalationKind,
    FollowUpTask,
    NotificationKind,
    RoutingRule,
    SlaClock,
    TaskEscalation,
    TaskStatus,
)
from apps.routing.services.notifications import NotificationDraft, notifications_create
from apps.routing.services.webhooks import webhook_task_updates_enqueue

SWEEP_BATCH = 2000

Window = tuple[int, time, time]  # weekday, start, end (local)


def sla_deadlines(
    *, rule: RoutingRule, start: datetime, owner: User | None
) -> tuple[datetime, datetime]:
    """(warn_at, due_at) for a task routed by `rule` at `start`."""
    seconds = rule.sla_minutes * 60
    warn_seconds = seconds * rule.warn_at_percent / 100
    if rule.sla_clock == SlaClock.CLOCK:
        return start + timedelta(seconds=warn_seconds), start + timedelta(seconds=seconds)
    windows, zone = business_windows(owner)
    return (
        business_time_add(start, warn_seconds, windows, zone),
        business_time_add(start, seconds, windows, zone),
    )


def business_windows(owner: User | None) -> tuple[list[Window], ZoneInfo]:
    """The owner's working hours; for the queue (or an owner with none), the default week."""
    if owner is not None:
        hours = [(h.weekday, h.starts_at, h.ends_at) for h in owner.working_hours.all()]
        if hours:
            return hours, ZoneInfo(owner.time_zone)
    default = settings.CUE_ROUTING_BUSINESS_HOURS
    start, end = default["hours"]
    return [(day, start, end) for day in default["weekdays"]], ZoneInfo(default["time_zone"])


def business_time_add(
    start: datetime, seconds: float, windows: list[Window], zone: ZoneInfo
) -> datetime:
    """`start` plus `seconds` of time inside the windows (e.g. 15 minutes asked at 16:55 on a
    Friday, 9–17 weekdays, is due 9:10 on Monday)."""
    if not windows:
        return start + timedelta(seconds=seconds)
    local_start = start.astimezone(zone)
    remaining = seconds
    for offset in range(15):  # two weeks reach any window of a weekly schedule
        day = local_start.date() + timedelta(days=offset)
        for weekday, opens, closes in sorted(windows, key=lambda w: w[1]):
            if weekday != day.weekday():
                continue
            begin = max(datetime.combine(day, opens, tzinfo=zone), local_start).astimezone(UTC)
            end = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
            available = (end - begin).total_seconds()
            if available <= 0:
                continue
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
    return start + timedelta(seconds=seconds)


def sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> dict[str, int]:
    """Warns the owners of tasks near their due time, then marks and escalates breaches."""
    now = now or timezone.now()
    actor = _SystemActor()
    warned = breached = 0
    while (count := _warnings_mark(now, batch, actor)) > 0:
        warned += count
        if count < batch:
            break
    while (count := _breaches_mark(now, batch, actor)) > 0:
        breached += count
        if count < batch:
            break
    return {"warned": warned, "breached": breached}


class _SystemActor:
    """The system user's id, looked up only when the sweep has something to record."""

    def __int__(self) -> int:
        if not hasattr(self, "pk"):
            self.pk = system_user().pk
        return self.pk


def _warnings_mark(now: datetime, batch: int, actor: _SystemActor) -> int:
    due = FollowUpTask.objects.sla_running().filter(
        warned_at=None, warn_at__lte=now, due_at__gt=now
    )
    ids = list(due.order_by("warn_at").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0  # the usual minute: one indexed read, no transaction
    with transaction.atomic():
        return _warnings_claim(ids, now, actor)


def _warnings_claim(ids: list[int], now: datetime, actor: _SystemActor) -> int:
    claimed = _claim(ids, "warned_at", now)
    if not claimed:
        return 0
    mine = FollowUpTask.objects.filter(pk__in=claimed)
    rows = list(
        mine.values("pk", "owner_id", "team__manager_id", "rule__notify_email", "rule__notify_sms")
    )
    _escalations_record(rows, EscalationKind.WARNING, now)
    history_rows_insert(
        mine, history_type=CHANGED, reason="SLA warning sent", user_id=int(actor), at=now
    )
    notifications_create(
        [
            NotificationDraft(
                row["pk"],
                NotificationKind.WARNING,
                recipient,
                by_email=row["rule__notify_email"] is not False,
                by_sms=row["rule__notify_sms"] is not False,
            )
            for row in rows
            if (recipient := row["owner_id"] or row["team__manager_id"])
        ],
        now=now,
    )
    return len(rows)


def _breaches_mark(now: datetime, batch: int, actor: _SystemActor) -> int:
    due = FollowUpTask.objects.sla_running().filter(breached_at=None, due_at__lte=now)
    ids = list(due.order_by("due_at").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    with transaction.atomic():
        return _breaches_claim(ids, now, actor)


def _breaches_claim(ids: list[int], now: datetime, actor: _SystemActor) -> int:
    claimed = _claim(ids, "breached_at", now)
    if not claimed:
        return 0
    mine = FollowUpTask.objects.filter(pk__in=claimed)
    rows = list(mine.values("pk", "owner_id", "team__manager_id", "rule__reassign_on_breach"))
    _escalations_record(rows, EscalationKind.BREACH, now)
    requeue = [row for row in rows if row["rule__reassign_on_breach"] and row["owner_id"]]
    if requeue:
        _escalations_record(requeue, EscalationKind.REQUEUED, now)
        FollowUpTask.objects.filter(pk__in=[row["pk"] for row in requeue]).update(
            owner=None,
            assignment=AssignmentKind.QUEUE,
            assigned_at=now,
            assignment_note="Moved to the team queue after the SLA breach.",
        )
    history_rows_insert(
        mine, history_type=CHANGED, reason="SLA breached; escalated", user_id=int(actor), at=now
    )
    webhook_task_updates_enqueue(mine, why="breach")
    task_changes_fire(claimed, change=UPDATED, reason="SLA breached; escalated", at=now)
    notifications_create(
        [
            NotificationDraft(row["pk"], NotificationKind.BREACH, recipient)
            for row in rows
            if (recipient := row["team__manager_id"] or row["owner_id"])
        ],
        now=now,
    )
    return len(rows)


def _claim(ids: list[int], column: str, now: datetime) -> list[int]:
    """Sets the column on those of `ids` whose SLA still runs and where it is still empty, and
    returns exactly those: a sweep running at the same moment gets the others, never the same
    ones, and a task touched since it was read is left alone."""
    table = FollowUpTask._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s "
            f"WHERE id IN ({placeholders}) AND {column} IS NULL AND status = %s "
            "AND first_touch_at IS NULL RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), *ids, TaskStatus.OPEN],
        )
        return [row[0] for row in cursor.fetchall()]


def _escalations_record(rows: list[dict], kind: str, now: datetime) -> None:
    TaskEscalation.objects.bulk_create(
        [
            TaskEscalation(task_id=row["pk"], kind=kind, at=now, owner_id=row["owner_id"])
            for row in rows
        ],
        ignore_conflicts=True,
    )
