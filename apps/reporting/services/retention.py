"""Retention: personal data is kept only as long as it is useful, one period per kind, each
a setting (README, Security and privacy): message bodies and reply text, click IPs and
user agents, event properties, closed tasks' notes, the Segment messages Cue rejected, and
(apps/crm/retention.py) the CRM sync error log. Consent evidence is kept: the ledger is
never pruned, whatever the settings say. Each prune runs in batches of ids and is itself
recorded, by the system actor, even when nothing was old enough.

Whole messages go only when CUE_RETENTION_MESSAGE_ROW_DAYS is set, whole events only when
CUE_RETENTION_EVENT_ROW_DAYS is: on PostgreSQL a month older than that is dropped as a
partition (apps.core.partitions), of the messages, of their log and of the events, and the
rest (the month the cutoff falls in, the DEFAULT partition, SQLite) is deleted in batches
as other rows."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CASCADE, SET_NULL
from django.utils import timezone

from apps.accounts.services import system_user
from apps.contacts.models import EVENTS, Event, EventType
from apps.core.errors import CueError
from apps.core.partitions import (
    Partition,
    Partitioned,
    partition_drop,
    partition_ids,
    partitions_ending_by,
)
from apps.reporting.models import RetentionRun
from apps.routing.models import OPEN_STATUSES, FollowUpTask
from apps.segment_intake.models import SegmentRejection
from apps.sends.models import (
    MESSAGE_LOG,
    MESSAGES,
    InboundMessage,
    LinkClick,
    OutboundMessage,
)

BATCH = 5000


def retention_prune(*, now: datetime | None = None) -> list[RetentionRun]:
    """Clears message bodies older than CUE_RETENTION_MESSAGE_DAYS and click IPs older than
    CUE_RETENTION_CLICK_IP_DAYS, and deletes Segment rejections older than
    CUE_RETENTION_SEGMENT_REJECTION_DAYS; records one RetentionRun for each, even when
    nothing was old enough (so the audit shows the prune ran)."""
    now = now or timezone.now()
    message_days = retention_days("CUE_RETENTION_MESSAGE_DAYS")
    ip_days = retention_days("CUE_RETENTION_CLICK_IP_DAYS")
    rejection_days = retention_days("CUE_RETENTION_SEGMENT_REJECTION_DAYS")
    actor = system_user()
    bodies_cutoff = now - timedelta(days=message_days)
    bodies = {
        "outbound": retention_updated_batched(
            OutboundMessage.objects.filter(created_at__lt=bodies_cutoff).exclude(
                body="", subject="", html=""
            ),
            body="",
            subject="",
            html="",
        ),
        "inbound": retention_updated_batched(
            InboundMessage.objects.filter(received_at__lt=bodies_cutoff).exclude(body=""), body=""
        ),
        "reply_events": _reply_bodies_clear(bodies_cutoff),
    }
    ips_cutoff = now - timedelta(days=ip_days)
    old_clicks = LinkClick.objects.filter(at__lt=ips_cutoff)
    ips = {
        "clicks": retention_updated_batched(
            old_clicks.filter(ip_address__isnull=False), ip_address=None
        ),
        "user_agents": retention_updated_batched(old_clicks.exclude(user_agent=""), user_agent=""),
    }
    rejections_cutoff = now - timedelta(days=rejection_days)
    rejections = {
        "segment_rejections": retention_deleted_batched(
            SegmentRejection.objects.filter(received_at__lt=rejections_cutoff)
        )
    }
    return [
        retention_recorded(RetentionRun.Target.MESSAGE_BODIES, bodies_cutoff, bodies, now, actor),
        retention_recorded(RetentionRun.Target.CLICK_IPS, ips_cutoff, ips, now, actor),
        retention_recorded(
            RetentionRun.Target.SEGMENT_REJECTIONS, rejections_cutoff, rejections, now, actor
        ),
        _event_properties_clear(now, actor),
        _task_notes_clear(now, actor),
        *_message_rows_delete(now, actor),
        *_event_rows_delete(now, actor),
    ]


def _event_properties_clear(now: datetime, actor) -> RetentionRun:
    """What an old event said (its properties: a page, a form's answers) goes; the event
    stays, so counts, funnels and attribution read the same."""
    cutoff = now - timedelta(days=retention_days("CUE_RETENTION_EVENT_DAYS"))
    old = Event.objects.filter(occurred_at__lt=cutoff).exclude(properties={})
    detail = {"events": retention_updated_batched(old, properties={})}
    return retention_recorded(RetentionRun.Target.EVENT_PROPERTIES, cutoff, detail, now, actor)


def _task_notes_clear(now: datetime, actor) -> RetentionRun:
    """A closed follow-up task's notes and the context it was made with (reply text) go,
    from the task and from every history row of it; who worked it, when and the outcome
    stay, so SLA reports and the audit trail read the same."""
    cutoff = now - timedelta(days=retention_days("CUE_RETENTION_TASK_NOTE_DAYS"))
    closed = FollowUpTask.objects.filter(created_at__lt=cutoff).exclude(status__in=OPEN_STATUSES)
    history = FollowUpTask.history.filter(id__in=closed.values("pk"))
    notes = {"outcome_note": "", "assignment_note": "", "context": {}}
    detail = {
        # exclude(**notes): rows whose notes are all empty already
        "tasks": retention_updated_batched(closed.exclude(**notes), **notes),
        "task_history": retention_updated_batched(history.exclude(**notes), **notes),
    }
    return retention_recorded(RetentionRun.Target.TASK_NOTES, cutoff, detail, now, actor)


def _message_rows_delete(now: datetime, actor) -> list[RetentionRun]:
    """Messages older than CUE_RETENTION_MESSAGE_ROW_DAYS go whole, with every row that
    points at them (their log, links and clicks, attributions); nothing when it is 0."""
    if not settings.CUE_RETENTION_MESSAGE_ROW_DAYS:
        return []
    cutoff = now - timedelta(days=retention_days("CUE_RETENTION_MESSAGE_ROW_DAYS"))
    # The log first: a month of it older than the cutoff is of messages older than that
    # too (an entry is never written before its message), so it goes whole, not by message.
    log_dropped = sum(
        partition_drop(MESSAGE_LOG, partition)
        for partition in partitions_ending_by(MESSAGE_LOG, cutoff)
        if not _log_of_messages_since(partition, cutoff)
    )
    detail = _rows_expire(OutboundMessage, MESSAGES, cutoff)
    # The log's rows that went as whole months are in the detail, not in the messages' rows.
    noted = {"log_dropped": log_dropped}
    return [retention_recorded(RetentionRun.Target.MESSAGE_ROWS, cutoff, detail, now, actor, noted)]


def _log_of_messages_since(partition: Partition, cutoff: datetime) -> bool:
    """Whether a month of the log holds an entry of a message that stays (none should: an
    entry is written after its message; a clock that ran behind could still make one). Such
    a month is not dropped: its entries go with their messages, row by row."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT FROM {partition.name} e JOIN {MESSAGES.table} m"
            " ON m.id = e.message_id WHERE m.created_at >= %s)",
            [cutoff],
        )
        return cursor.fetchone()[0]


def _event_rows_delete(now: datetime, actor) -> list[RetentionRun]:
    """Events that occurred before CUE_RETENTION_EVENT_ROW_DAYS go whole, with their handler
    failures; the follow-up task signals and enrollments they started forget them. Nothing
    when it is 0."""
    if not settings.CUE_RETENTION_EVENT_ROW_DAYS:
        return []
    cutoff = now - timedelta(days=retention_days("CUE_RETENTION_EVENT_ROW_DAYS"))
    detail = _rows_expire(Event, EVENTS, cutoff)
    return [retention_recorded(RetentionRun.Target.EVENT_ROWS, cutoff, detail, now, actor)]


def _rows_expire(model, spec: Partitioned, cutoff: datetime) -> dict[str, int]:
    """Rows of `model` from before `cutoff`: whole months dropped as partitions
    (PostgreSQL), then the rest deleted in batches (what a month still open holds, and
    every row on SQLite)."""
    dropped = 0
    for partition in partitions_ending_by(spec, cutoff):
        _dependants_delete(model, partition)
        dropped += partition_drop(spec, partition)
    older = model.objects.filter(**{f"{spec.column}__lt": cutoff})
    return {"dropped": dropped, "deleted": retention_deleted_batched(older)}


def _dependants_delete(model, partition: Partition) -> None:
    """What points at the partition's rows is dealt with first, as Django's on_delete would
    (dropping a partition runs no ORM cascade): deleted, or its reference cleared, a batch
    of ids at a time."""
    relations = [
        field
        for field in model._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
    ]
    after = 0
    while ids := partition_ids(partition, after=after, limit=BATCH):
        with transaction.atomic():
            for relation in relations:
                _dependant_release(relation, ids, partition)
        after = ids[-1]


def _dependant_release(relation, ids: list[int], partition: Partition) -> None:
    name = relation.field.name
    related = relation.related_model._base_manager.filter(**{f"{name}__in": ids})
    if relation.on_delete is CASCADE:
        related.delete()
    elif relation.on_delete is SET_NULL:
        related.update(**{name: None})
    else:
        raise CueError(f"{relation} must cascade or set null to drop {partition.name}.")


def retention_days(name: str) -> int:
    days = getattr(settings, name)
    if not isinstance(days, int) or days < 1:
        raise CueError(f"{name} must be a whole number of days, at least 1 (it is {days!r}).")
    return days


def retention_updated_batched(queryset, **values) -> int:
    """UPDATE … in batches of ids, each in its own short transaction."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                return total
            total += queryset.model.objects.filter(pk__in=ids).update(**values)


def retention_deleted_batched(queryset) -> int:
    """DELETE … in batches of ids, each in its own short transaction; returns the rows of
    the queryset's model (not those its on_delete took with them)."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                return total
            _, per_model = queryset.model.objects.filter(pk__in=ids).delete()
            total += per_model[queryset.model._meta.label]


def _reply_bodies_clear(cutoff: datetime) -> int:
    """The text of a reply is copied onto its sms_reply event: it goes too."""
    old = Event.objects.filter(
        type=EventType.SMS_REPLY, occurred_at__lt=cutoff, properties__has_key="body"
    )
    remove = (
        "properties = properties - 'body'"
        if connection.vendor == "postgresql"
        else "properties = json_remove(properties, '$.body')"
    )
    total = 0
    while True:
        with transaction.atomic():
            ids = list(old.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                return total
            marks = ", ".join(["%s"] * len(ids))
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE contacts_event SET {remove} WHERE id IN ({marks})", ids)
                total += cursor.rowcount


def retention_recorded(
    target: str, cutoff: datetime, detail: dict, now: datetime, actor, noted: dict | None = None
) -> RetentionRun:
    """Records a prune: its rows are the detail's; `noted` adds figures that are not."""
    return RetentionRun.objects.create(
        target=target,
        cutoff=cutoff,
        rows=sum(detail.values()),
        detail={**detail, **(noted or {})},
        ran_at=now,
        actor=actor,
    )
