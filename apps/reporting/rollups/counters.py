"""The counters of a range of days, per day × journey × template version × step.

Each source is one aggregate query (GROUP BY day and the dimensions); only aggregated rows
come back to Python, where they are merged by key. Only journeys' messages count: test
sends, keyword replies and notifications to reps are not marketing's plans."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from math import ceil

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.consent.models import Suppression
from apps.contacts.models import Event, EventType
from apps.journeys.models import Enrollment, EnrollmentState
from apps.library.models import TemplateVersion
from apps.reporting.models import (
    Attribution,
    AttributionSettings,
    ConversionKind,
    DailyRollup,
)
from apps.reporting.sql import json_bigint
from apps.routing.models import FollowUpTask, TaskStatus
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
DIMENSIONS = ("journey_id", "template_version_id", "step_id")
# Minutes to first touch are kept in buckets so that days can be merged into a median:
# every minute for the first hour, every 15 minutes to 8 hours, every hour to 3 days.
FIRST_TOUCH_BUCKETS = (
    tuple(range(1, 61)) + tuple(range(75, 481, 15)) + tuple(range(540, 4321, 60)) + (10**6,)
)
MESSAGE_CHUNK = 2000


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The moments [start of `first`, start of the day after `last`) in the current zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def first_touch_bucket(minutes: float) -> int:
    return next(bucket for bucket in FIRST_TOUCH_BUCKETS if minutes <= bucket)


class _Rows:
    """Counters by (day, journey, version, step), merged from every source."""

    def __init__(self):
        self.rows: dict[tuple, dict] = defaultdict(dict)
        self.templates = dict(TemplateVersion.objects.values_list("id", "template_id"))

    def add(self, day, dims, counter: str, amount) -> None:
        if not amount:
            return
        journey, version, step = (value or 0 for value in dims)
        row = self.rows[(day, journey, version, step)]
        row[counter] = row.get(counter, 0) + amount

    def add_to_map(self, day, dims, counter: str, key: str, amount: int) -> None:
        journey, version, step = (value or 0 for value in dims)
        row = self.rows[(day, journey, version, step)]
        mapping = row.setdefault(counter, {})
        mapping[key] = mapping.get(key, 0) + amount

    def models(self) -> list[DailyRollup]:
        now = timezone.now()
        return [
            DailyRollup(
                day=day,
                journey_id=journey,
                template_version_id=version,
                template_id=self.templates.get(version, 0),
                step_id=step,
                computed_at=now,
                **{
                    name: round(Decimal(value), 2) if name == "revenue" else value
                    for name, value in counters.items()
                },
            )
            for (day, journey, version, step), counters in sorted(self.rows.items())
        ]


def rollup_rows(*, first: date, last: date) -> list[DailyRollup]:
    """Unsaved DailyRollup rows for every day from `first` to `last`, both included."""
    start, end = day_bounds(first, last)
    rows = _Rows()
    for source in _SOURCES:
        source(rows, start, end)
    return rows.models()


def _journey_messages():
    return OutboundMessage.objects.filter(origin=MessageOrigin.JOURNEY, journey_id__isnull=False)


def _dims(row: dict, prefix: str = "") -> tuple:
    return tuple(row[f"{prefix}{name}"] for name in DIMENSIONS)


def _by_day(queryset, field: str, start, end, *extra, **aggregates):
    return (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(day=TruncDate(field))
        .values("day", *extra)
        .annotate(**aggregates)
        .order_by()
    )


def _message_counts(rows: _Rows, start, end) -> None:
    messages = _journey_messages()
    for field, counter in (("sent_at", "sent"), ("delivered_at", "delivered")):
        for row in _by_day(messages, field, start, end, *DIMENSIONS, n=Count("id")):
            rows.add(row["day"], _dims(row), counter, row["n"])
    failed = messages.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED])
    for row in _by_day(failed, "finished_at", start, end, *DIMENSIONS, "error_code", n=Count("id")):
        rows.add(row["day"], _dims(row), "failed", row["n"])
        rows.add_to_map(row["day"], _dims(row), "failed_by_error", row["error_code"] or "?", row["n"])
        if row["error_code"] == CARRIER_OPT_OUT:
            rows.add(row["day"], _dims(row), "opt_outs", row["n"])
            rows.add(row["day"], _dims(row), "complaints", row["n"])


def _clicks(rows: _Rows, start, end) -> None:
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
        rows.add(row["day"], _dims(row, "d_"), "human_clicks", row["human"])
        rows.add(row["day"], _dims(row, "d_"), "bot_clicks", row["bots"])


def _message_dims(ids: set[int]) -> dict[int, tuple]:
    """{message id: (journey, version, step)} for those of `ids` that journeys sent."""
    found: dict[int, tuple] = {}
    ordered = sorted(i for i in ids if i is not None)
    for index in range(0, len(ordered), MESSAGE_CHUNK):
        chunk = ordered[index : index + MESSAGE_CHUNK]
        for row in _journey_messages().filter(pk__in=chunk).values("pk", *DIMENSIONS):
            found[row["pk"]] = _dims(row)
    return found


def _per_message(rows: _Rows, grouped, counter: str) -> None:
    """Rows of (day, mid, n) credited to the journey message `mid`, when it is one."""
    grouped = list(grouped)
    dims = _message_dims({row["mid"] for row in grouped})
    for row in grouped:
        if row["mid"] in dims:
            rows.add(row["day"], dims[row["mid"]], counter, row["n"])


def _replies(rows: _Rows, start, end) -> None:
    message_id = RawSQL(json_bigint('"contacts_event"."properties"', "message_id"), [])
    replies = Event.objects.filter(type=EventType.SMS_REPLY).annotate(
        mid=ExpressionWrapper(message_id, output_field=BigIntegerField())
    )
    _per_message(rows, _by_day(replies, "occurred_at", start, end, "mid", n=Count("id")), "replies")


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


def _opt_outs_and_complaints(rows: _Rows, start, end) -> None:
    stops = InboundMessage.objects.filter(keyword_kind="opt_out").annotate(
        mid=latest_message_before("from_address", "received_at")
    )
    _per_message(rows, _by_day(stops, "received_at", start, end, "mid", n=Count("id")), "opt_outs")
    complaints = Suppression.objects.filter(reason=Suppression.Reason.COMPLAINT).annotate(
        mid=latest_message_before("address", "created_at")
    )
    grouped = _by_day(complaints, "created_at", start, end, "mid", n=Count("id"))
    _per_message(rows, grouped, "complaints")


def _rule_hits(rows: _Rows, start, end) -> None:
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
            rows.add(row["day"], _dims(row, "d_"), counter, row["n"])


def _id_floor(moment: datetime) -> int:
    """The last decision-log id before `moment`. The log is written with the time of
    writing, so ids grow with time: reading newest-first stops at the range instead of
    scanning the whole log (it has no index on its time)."""
    row = MessageEvent.objects.filter(at__lt=moment).order_by("-pk").values("pk").first()
    return row["pk"] if row else 0


def _enrollments(rows: _Rows, start, end) -> None:
    window = timedelta(days=AttributionSettings.current().holdout_window_days)
    meeting = Exists(
        Event.objects.filter(
            contact_id=OuterRef("contact_id"),
            type=EventType.MEETING_BOOKED,
            occurred_at__gte=OuterRef("entered_at"),
            occurred_at__lte=OuterRef("entered_at") + window,
        )
    )
    goal = Q(state=EnrollmentState.GOAL_REACHED, finished_at__lte=F("entered_at") + window)
    converted = goal | Q(meeting)
    grouped = _by_day(
        Enrollment.objects.all(),
        "entered_at",
        start,
        end,
        "journey_id",
        enrolled=Count("id", filter=Q(is_holdout=False)),
        enrolled_holdout=Count("id", filter=Q(is_holdout=True)),
        converted=Count("id", filter=Q(is_holdout=False) & converted),
        converted_holdout=Count("id", filter=Q(is_holdout=True) & converted),
    )
    for row in grouped:
        dims = (row["journey_id"], 0, 0)
        for counter in ("enrolled", "enrolled_holdout", "converted", "converted_holdout"):
            rows.add(row["day"], dims, counter, row[counter])


def _tasks(rows: _Rows, start, end) -> None:
    """Tasks by the day they were created: how many, SLA met or missed, minutes to the
    first touch. Tasks are few (one per high-intent signal), so they are read row by row."""
    message_id = RawSQL(json_bigint('"routing_followuptask"."context"', "message_id"), [])
    tasks = list(
        FollowUpTask.objects.filter(
            created_at__gte=start, created_at__lt=end, journey_id__isnull=False
        )
        .annotate(day=TruncDate("created_at"), mid=ExpressionWrapper(message_id, BigIntegerField()))
        .values_list(
            "day", "journey_id", "mid", "created_at", "first_touch_at", "due_at", "breached_at",
            "status",
        )
    )  # fmt: skip
    dims_of = _message_dims({task[2] for task in tasks})
    now = timezone.now()
    for day, journey_id, mid, created, touched, due, breached, status in tasks:
        dims = dims_of.get(mid, (journey_id, 0, 0))
        rows.add(day, dims, "tasks_created", 1)
        if touched is not None:
            minutes = max((touched - created).total_seconds(), 0) / 60
            rows.add_to_map(day, dims, "first_touch_minutes", str(first_touch_bucket(minutes)), 1)
        if touched is not None and touched <= due:
            rows.add(day, dims, "sla_met", 1)
        elif touched is not None or breached is not None or (
            status == TaskStatus.OPEN and due < now
        ):
            rows.add(day, dims, "sla_missed", 1)


def _attributed(rows: _Rows, start, end) -> None:
    def credit(kind):
        return Sum("credit", filter=Q(kind=kind))

    grouped = _by_day(
        Attribution.objects.all(),
        "converted_at",
        start,
        end,
        *DIMENSIONS,
        meetings=credit(ConversionKind.MEETING_BOOKED),
        opportunities=credit(ConversionKind.OPPORTUNITY_CREATED),
        progressions=credit(ConversionKind.STAGE_PROGRESSION),
        revenue=Sum(
            ExpressionWrapper(F("value") * F("credit"), output_field=FloatField()),
            filter=Q(kind=ConversionKind.CLOSED_WON),
        ),
    )
    for row in grouped:
        for counter in ("meetings", "opportunities", "progressions", "revenue"):
            rows.add(row["day"], _dims(row), counter, row[counter] or 0)


_SOURCES = (
    _enrollments,
    _message_counts,
    _clicks,
    _replies,
    _opt_outs_and_complaints,
    _rule_hits,
    _tasks,
    _attributed,
)
