"""Which days need their rollups recomputed: those that rows added since the last run
touch. Each source table is read by primary key above its watermark (the highest id the
last run saw), so a run costs what was added, not what is stored.

A row committed late with an id below the watermark (PostgreSQL hands out ids before
commit) would be missed; the refresh always recomputes today and yesterday as well, which
is where such a row lands."""

from datetime import date, timedelta

from django.db.models import Max, Subquery
from django.db.models.functions import TruncDate

from apps.consent.models import Suppression
from apps.contacts.models import Event, EventType
from apps.journeys.models import Activity, Enrollment
from apps.reporting.models import AttributionSettings
from apps.reporting.rollups.messages import REPLY_EVENT_TYPES
from apps.routing.models import FollowUpTask
from apps.sends.models import (
    InboundMessage,
    LinkClick,
    MessageEvent,
    MessageOrigin,
    OutboundMessage,
)

HistoricalTask = FollowUpTask.history.model
# source name: (model, primary key field)
WATERMARKED = {
    "message_event": (MessageEvent, "id"),
    "click": (LinkClick, "id"),
    "event": (Event, "id"),
    "inbound": (InboundMessage, "id"),
    "enrollment": (Enrollment, "id"),
    "activity": (Activity, "id"),
    "task_history": (HistoricalTask, "history_id"),
    "suppression": (Suppression, "id"),
}


def watermarks_now() -> dict[str, int]:
    """The highest id of every source table now."""
    return {
        name: model.objects.aggregate(top=Max(pk))["top"] or 0
        for name, (model, pk) in WATERMARKED.items()
    }


def touched_days(*, since: dict[str, int], until: dict[str, int]) -> set[date]:
    """The days touched by rows with ids in (since, until] of each source."""
    days: set[date] = set()
    for name, reader in _READERS.items():
        model, pk = WATERMARKED[name]
        low, high = since.get(name, 0), until.get(name, 0)
        if high > low:
            days |= reader(model.objects.filter(**{f"{pk}__gt": low, f"{pk}__lte": high}))
    return days


def _days(queryset, field: str) -> set[date]:
    rows = queryset.annotate(d=TruncDate(field)).values_list("d", flat=True).distinct()
    return {day for day in rows.order_by() if day is not None}


def _message_events(new) -> set[date]:
    message_ids = new.values("message_id")
    messages = OutboundMessage.objects.filter(
        pk__in=Subquery(message_ids), origin=MessageOrigin.JOURNEY
    )
    days = _days(new, "at")
    for field in ("sent_at", "delivered_at", "finished_at"):
        days |= _days(messages.filter(**{f"{field}__isnull": False}), field)
    return days


def _events(new) -> set[date]:
    days = _days(new.filter(type__in=[*REPLY_EVENT_TYPES, EventType.MEETING_BOOKED]), "occurred_at")
    meetings = new.filter(type=EventType.MEETING_BOOKED)
    earliest = meetings.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    if earliest is not None:
        window = timedelta(days=AttributionSettings.current().holdout_window_days)
        entered = Enrollment.objects.filter(
            contact_id__in=Subquery(meetings.values("contact_id")),
            entered_at__gte=earliest - window,
        )
        days |= _days(entered, "entered_at")
    return days


def _goals(new) -> set[date]:
    enrollments = Enrollment.objects.filter(
        pk__in=Subquery(new.filter(kind=Activity.Kind.GOAL).values("enrollment_id"))
    )
    return _days(enrollments, "entered_at")


_READERS = {
    "message_event": _message_events,
    "click": lambda new: _days(new, "at"),
    "event": _events,
    "inbound": lambda new: _days(new.filter(keyword_kind="opt_out"), "received_at"),
    "enrollment": lambda new: _days(new, "entered_at"),
    "activity": _goals,
    "task_history": lambda new: _days(new.filter(journey_id__isnull=False), "created_at"),
    "suppression": lambda new: _days(new.filter(reason=Suppression.Reason.COMPLAINT), "created_at"),
}
