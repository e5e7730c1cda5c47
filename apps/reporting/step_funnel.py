"""One journey's funnel, step by step: of the people who entered in a range, how many
reached each step, what its texts did (sent, delivered, clicked) and how many reached the
goal. Four grouped queries, whatever the number of people or steps."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from apps.journeys.models import Activity, Enrollment, EnrollmentState, Journey, Step
from apps.sends.models import MessageOrigin, OutboundMessage


@dataclass(frozen=True)
class StepFigures:
    key: str
    kind: str
    reached: int
    sent: int
    delivered: int
    clicked: int


@dataclass(frozen=True)
class StepFunnel:
    journey: str
    entered: int
    steps: list[StepFigures]
    goal_reached: int


def journey_step_funnel(*, journey_id: int, start: datetime, end: datetime) -> StepFunnel | None:
    """The cohort is everyone (holdouts aside) who entered in [start, end); steps are those
    of the live version (else the newest), in order; a step's texts are counted by key, so
    texts sent on an older version of the same step count too."""
    journey = Journey.objects.filter(pk=journey_id).first()
    if journey is None:
        return None
    cohort = Enrollment.objects.filter(
        journey_id=journey_id, entered_at__gte=start, entered_at__lt=end, is_holdout=False
    )
    totals = cohort.aggregate(
        entered=Count("pk"), goal=Count("pk", filter=Q(state=EnrollmentState.GOAL_REACHED))
    )
    reached = _reached_by_key(cohort)
    texts = _texts_by_key(journey_id, cohort)
    steps = [
        StepFigures(
            step.key,
            step.get_kind_display(),
            reached.get(step.key, 0),
            **texts.get(step.key, {"sent": 0, "delivered": 0, "clicked": 0}),
        )
        for step in _steps_shown(journey)
    ]
    return StepFunnel(journey.name, totals["entered"], steps, totals["goal"])


def _steps_shown(journey: Journey) -> list[Step]:
    version_id = journey.live_version_id or (
        Step.objects.filter(journey=journey)
        .order_by("-version_id")
        .values_list("version_id", flat=True)
        .first()
    )
    return list(
        Step.objects.filter(journey=journey, version_id=version_id).order_by("position", "pk")
    )


def _reached_by_key(cohort) -> dict[str, int]:
    rows = (
        Activity.objects.filter(enrollment__in=cohort.values("pk"), kind=Activity.Kind.STEP)
        .values("step_key")
        .annotate(n=Count("enrollment_id", distinct=True))
        .order_by()
    )
    return {row["step_key"]: row["n"] for row in rows}


def _texts_by_key(journey_id: int, cohort) -> dict[str, dict[str, int]]:
    rows = (
        OutboundMessage.objects.filter(
            origin=MessageOrigin.JOURNEY,
            journey_id=journey_id,
            enrollment_id__in=cohort.values("pk"),
        )
        .values("step_id")
        .annotate(
            sent=Count("pk", filter=Q(sent_at__isnull=False), distinct=True),
            delivered=Count("pk", filter=Q(delivered_at__isnull=False), distinct=True),
            clicked=Count("pk", filter=Q(links__clicks__is_bot=False), distinct=True),
        )
        .order_by()
    )
    keys = dict(Step.objects.filter(journey_id=journey_id).values_list("pk", "key"))
    by_key: dict[str, dict[str, int]] = {}
    for row in rows:
        figures = by_key.setdefault(
            keys.get(row["step_id"], ""), dict.fromkeys(("sent", "delivered", "clicked"), 0)
        )
        for name in figures:
            figures[name] += row[name]
    return by_key
