"""Rollup sources about what came of the journeys: enrollments and holdout conversions,
follow-up tasks and their SLA, and attributed meetings, deals and revenue."""

from datetime import timedelta

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.contacts.models import Event, EventType
from apps.journeys.models import Enrollment, EnrollmentState
from apps.reporting.models import Attribution, AttributionSettings, ConversionKind
from apps.reporting.rollups.rows import (
    DIMENSIONS,
    Rows,
    by_day,
    dims_of,
    first_touch_bucket,
    message_dims,
)
from apps.reporting.sql import json_bigint
from apps.routing.models import FollowUpTask, TaskStatus


def enrollments(rows: Rows, start, end) -> None:
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
    grouped = by_day(
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


def tasks(rows: Rows, start, end) -> None:
    """Tasks by the day they were created: how many, SLA met or missed, minutes to the
    first touch. Tasks are few (one per high-intent signal), so they are read row by row."""
    message_id = RawSQL(json_bigint('"routing_followuptask"."context"', "message_id"), [])
    tasks = list(
        FollowUpTask.objects.filter(
            created_at__gte=start, created_at__lt=end, journey_id__isnull=False
        )
        .annotate(day=TruncDate("created_at"), mid=ExpressionWrapper(message_id, BigIntegerField()))
        .values_list(
            "day",
            "journey_id",
            "mid",
            "created_at",
            "first_touch_at",
            "due_at",
            "breached_at",
            "status",
        )
    )
    dims_of = message_dims({task[2] for task in tasks})
    now = timezone.now()
    for day, journey_id, mid, created, touched, due, breached, status in tasks:
        dims = dims_of.get(mid, (journey_id, 0, 0))
        rows.add(day, dims, "tasks_created", 1)
        if touched is not None:
            minutes = max((touched - created).total_seconds(), 0) / 60
            rows.add_to_map(day, dims, "first_touch_minutes", str(first_touch_bucket(minutes)), 1)
        if touched is not None and touched <= due:
            rows.add(day, dims, "sla_met", 1)
        elif (
            touched is not None or breached is not None or (status == TaskStatus.OPEN and due < now)
        ):
            rows.add(day, dims, "sla_missed", 1)


def attributed(rows: Rows, start, end) -> None:
    def credit(kind):
        return Sum("credit", filter=Q(kind=kind))

    grouped = by_day(
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
            rows.add(row["day"], dims_of(row), counter, row[counter] or 0)
