"""Rollup sources about messages: sent, delivered, failed (by error), clicks, replies,
opt-outs and complaints, and how often the gate deferred or capped them. Only journeys'
messages count: test sends, keyword replies and notifications to reps are not marketing's
plans."""

from datetime import datetime

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from apps.consent.models import Suppression
from apps.contacts.models import Event, EventType
from apps.reporting.rollups.rows import (
    DIMENSIONS,
    Rows,
    by_day,
    dims_of,
    journey_messages,
    per_message,
)
from apps.reporting.sql import json_bigint
from apps.sends.models import (
    InboundMessage,
    LinkClick,
    MessageEvent,
    MessageOrigin,
    MessageStatus,
    OutboundMessage,
)

CARRIER_OPT_OUT = "21610"  # Twilio: the recipient unsubscribed at the carrier
CAP_REASONS = ("frequency_cap", "journey_cap")
# A reply to a journey's text or to its email (each names the message it answers).
REPLY_EVENT_TYPES = (EventType.SMS_REPLY, EventType.EMAIL_REPLY)


def message_counts(rows: Rows, start, end) -> None:
    messages = journey_messages()
    for field, counter in (("sent_at", "sent"), ("delivered_at", "delivered")):
        for row in by_day(messages, field, start, end, *DIMENSIONS, n=Count("id")):
            rows.add(row["day"], dims_of(row), counter, row["n"])
    failed = messages.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED])
    for row in by_day(failed, "finished_at", start, end, *DIMENSIONS, "error_code", n=Count("id")):
        rows.add(row["day"], dims_of(row), "failed", row["n"])
        rows.add_to_map(
            row["day"], dims_of(row), "failed_by_error", row["error_code"] or "?", row["n"]
        )
        if row["error_code"] == CARRIER_OPT_OUT:
            rows.add(row["day"], dims_of(row), "opt_outs", row["n"])
            rows.add(row["day"], dims_of(row), "complaints", row["n"])


def clicks(rows: Rows, start, end) -> None:
    clicks = LinkClick.objects.filter(
        link__message__origin=MessageOrigin.JOURNEY, link__message__journey_id__isnull=False
    )
    dims = {name: F(f"link__message__{name}") for name in DIMENSIONS}
    grouped = (
        clicks.filter(at__gte=start, at__lt=end)
        .annotate(day=TruncDate("at"), **{f"d_{k}": v for k, v in dims.items()})
        .values("day", *(f"d_{name}" for name in DIMENSIONS))
        .annotate(
            human=Count("id", filter=Q(is_bot=False)), bots=Count("id", filter=Q(is_bot=True))
        )
        .order_by()
    )
    for row in grouped:
        rows.add(row["day"], dims_of(row, "d_"), "human_clicks", row["human"])
        rows.add(row["day"], dims_of(row, "d_"), "bot_clicks", row["bots"])


def replies(rows: Rows, start, end) -> None:
    message_id = RawSQL(json_bigint('"contacts_event"."properties"', "message_id"), [])
    replies = Event.objects.filter(type__in=REPLY_EVENT_TYPES).annotate(
        mid=ExpressionWrapper(message_id, output_field=BigIntegerField())
    )
    per_message(rows, by_day(replies, "occurred_at", start, end, "mid", n=Count("id")), "replies")


def latest_message_before(address_field: str, at_field: str) -> Subquery:
    """The id of the last message sent to the address before the moment (keyword replies
    aside): what an opt-out or a complaint answers."""
    return Subquery(
        OutboundMessage.objects.filter(
            to_address=OuterRef(address_field), sent_at__lte=OuterRef(at_field)
        )
        .exclude(origin=MessageOrigin.KEYWORD_REPLY)
        .order_by("-sent_at", "-id")
        .values("pk")[:1]
    )


def opt_outs_and_complaints(rows: Rows, start, end) -> None:
    stops = InboundMessage.objects.filter(keyword_kind="opt_out").annotate(
        mid=latest_message_before("from_address", "received_at")
    )
    per_message(rows, by_day(stops, "received_at", start, end, "mid", n=Count("id")), "opt_outs")
    complaints = Suppression.objects.filter(reason=Suppression.Reason.COMPLAINT).annotate(
        mid=latest_message_before("address", "created_at")
    )
    grouped = by_day(complaints, "created_at", start, end, "mid", n=Count("id"))
    per_message(rows, grouped, "complaints")


def rule_hits(rows: Rows, start, end) -> None:
    """Quiet-hours deferrals and cap suppressions: messages the gate held back, per day."""
    decisions = MessageEvent.objects.filter(
        kind=MessageEvent.Kind.DECISION,
        pk__gt=_id_floor(start),
        message__origin=MessageOrigin.JOURNEY,
        message__journey_id__isnull=False,
    )
    dims = {f"d_{name}": F(f"message__{name}") for name in DIMENSIONS}
    for counter, reasons in (
        ("quiet_hours_deferrals", ["quiet_hours"]),
        ("cap_suppressions", list(CAP_REASONS)),
    ):
        grouped = (
            decisions.filter(at__gte=start, at__lt=end, detail__reason_code__in=reasons)
            .annotate(day=TruncDate("at"), **dims)
            .values("day", *dims)
            .annotate(n=Count("message_id", distinct=True))
            .order_by()
        )
        for row in grouped:
            rows.add(row["day"], dims_of(row, "d_"), counter, row["n"])


def _id_floor(moment: datetime) -> int:
    """The last decision-log id before `moment`. The log is written with the time of
    writing, so ids grow with time: reading newest-first stops at the range instead of
    scanning the whole log (it has no index on its time)."""
    row = MessageEvent.objects.filter(at__lt=moment).order_by("-pk").values("pk").first()
    return row["pk"] if row else 0
