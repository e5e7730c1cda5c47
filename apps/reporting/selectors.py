"""Reads for the dashboard and its exports: every figure comes from DailyRollup (or, for
per-conversion detail, Attribution) — never from the event or message tables."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import ExpressionWrapper, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from apps.core.db_router import replica_reads
from apps.journeys.models import Journey, Step
from apps.library.models import Channel, MessageTemplate
from apps.reporting.lift import Lift, holdout_lift
from apps.reporting.models import Attribution, ConversionKind, DailyRollup
from apps.reporting.models.facts import ROLLUP_COUNTERS, ROLLUP_CREDITS
from apps.reporting.rollups import FIRST_TOUCH_BUCKETS

GROUPS = {"journey": "journey_id", "template": "template_id", "step": "step_id"}
SUMMED = (*ROLLUP_COUNTERS, *ROLLUP_CREDITS)


@dataclass(frozen=True)
class DashboardFilters:
    start: date
    end: date
    journey_id: int | None = None
    template_id: int | None = None
    group_by: str = "journey"

    @classmethod
    def default(cls) -> "DashboardFilters":
        today = timezone.localdate()
        return cls(start=today - timedelta(days=29), end=today)


@dataclass
class Figures:
    """Summed counters and the rates derived from them."""

    values: dict = field(default_factory=dict)
    first_touch: dict = field(default_factory=dict)
    failed_by_error: dict = field(default_factory=dict)

    @property
    def opt_out_rate(self) -> float | None:
        return _rate(self.values.get("opt_outs", 0), self.values.get("sent", 0))

    @property
    def delivery_rate(self) -> float | None:
        return _rate(self.values.get("delivered", 0), self.values.get("sent", 0))

    @property
    def click_rate(self) -> float | None:
        return _rate(self.values.get("human_clicks", 0), self.values.get("delivered", 0))

    @property
    def sla_met_rate(self) -> float | None:
        met, missed = self.values.get("sla_met", 0), self.values.get("sla_missed", 0)
        return _rate(met, met + missed)

    @property
    def median_first_touch_minutes(self) -> int | None:
        return histogram_median(self.first_touch)


@dataclass
class TableRow:
    key: int
    label: str
    figures: Figures


@dataclass(frozen=True)
class ChannelFigures:
    """What one channel's messages did: sent, delivered, clicked by a person, replied, and
    the stage moves (progressions) attributed to them."""

    channel: str
    label: str
    sent: int = 0
    delivered: int = 0
    clicked: int = 0
    replied: int = 0
    stage_moves: float = 0.0


@dataclass
class Dashboard:
    filters: DashboardFilters
    totals: Figures
    rows: list[TableRow]
    trend: list[tuple[date, dict]]
    template_opt_outs: list[tuple[str, float, int]]
    lifts: list[tuple[str, Lift | None, int]]
    computed_at: object = None
    channels: list[ChannelFigures] = field(default_factory=list)


def _rate(part, whole) -> float | None:
    return part / whole if whole else None


def histogram_median(histogram: dict) -> int | None:
    """The bucket (minutes, as an upper bound) holding the median of a merged histogram."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bucket in FIRST_TOUCH_BUCKETS:
        seen += histogram.get(str(bucket), 0)
        if seen * 2 >= total:
            return bucket
    return None


def _merge(into: dict, more: dict) -> None:
    for key, value in (more or {}).items():
        into[key] = into.get(key, 0) + value


def rollups_for(filters: DashboardFilters) -> QuerySet:
    rows = DailyRollup.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.journey_id:
        rows = rows.filter(journey_id=filters.journey_id)
    if filters.template_id:
        rows = rows.filter(template_id=filters.template_id)
    return rows


def _sums() -> dict:
    return {name: Sum(name) for name in SUMMED}


def _figures(values: dict) -> Figures:
    cleaned = {name: values.get(name) or 0 for name in SUMMED}
    cleaned["revenue"] = Decimal(cleaned["revenue"] or 0)
    return Figures(values=cleaned)


@replica_reads()
def dashboard(filters: DashboardFilters) -> Dashboard:
    rows = rollups_for(filters)
    group = GROUPS[filters.group_by]
    totals = _figures(rows.aggregate(**_sums()))
    grouped = list(rows.values(group).annotate(**_sums()).order_by(group))
    table = {row[group]: _figures(row) for row in grouped}
    _histograms(rows, group, totals, table)
    labels = _labels(filters.group_by, list(table))
    trend = [
        (row["day"], {name: row[name] or 0 for name in SUMMED})
        for row in rows.values("day").annotate(**_sums()).order_by("day")
    ]
    return Dashboard(
        filters=filters,
        totals=totals,
        rows=[
            TableRow(key, labels.get(key, _none_label(filters.group_by, key)), figures)
            for key, figures in sorted(table.items(), key=lambda item: -item[1].values["sent"])
        ],
        trend=trend,
        template_opt_outs=_template_opt_outs(rows),
        lifts=_lifts(rows),
        computed_at=rows.order_by("-computed_at").values_list("computed_at", flat=True).first(),
        channels=channel_figures(rows),
    )


CHANNEL_SUMS = {
    "sent": "sent",
    "delivered": "delivered",
    "clicked": "human_clicks",
    "replied": "replies",
    "stage_moves": "progressions",
}


def channel_figures(rows: QuerySet) -> list[ChannelFigures]:
    """SMS and email side by side, in one GROUP BY over the rollup rows: a row's channel is
    its template's (rows with no template, such as enrollments, belong to neither)."""
    channel = Subquery(MessageTemplate.objects.filter(pk=OuterRef("template_id")).values("channel"))
    grouped = (
        rows.exclude(template_id=0)
        .annotate(channel=channel)
        .values("channel")
        .annotate(**{name: Sum(column) for name, column in CHANNEL_SUMS.items()})
        .order_by()
    )
    found = {row.pop("channel"): row for row in grouped}
    return [
        ChannelFigures(
            channel=value,
            label=label,
            **{name: (found.get(value) or {}).get(name) or 0 for name in CHANNEL_SUMS},
        )
        for value, label in Channel.choices
    ]


def _histograms(rows, group: str, totals: Figures, table: dict) -> None:
    """JSON counters (failures by error, minutes to first touch) are merged here: only the
    rollup rows that have any are read."""
    with_maps = rows.filter(~Q(failed_by_error={}) | ~Q(first_touch_minutes={})).values_list(
        group, "failed_by_error", "first_touch_minutes"
    )
    for key, errors, minutes in with_maps:
        for figures in (totals, table.get(key)):
            if figures is not None:
                _merge(figures.failed_by_error, errors)
                _merge(figures.first_touch, minutes)


def _none_label(group_by: str, key: int) -> str:
    if key:
        return f"#{key} (deleted)"
    return {"journey": "No journey", "template": "No template", "step": "No step"}[group_by]


def _labels(group_by: str, keys: list[int]) -> dict[int, str]:
    keys = [key for key in keys if key]
    if group_by == "journey":
        return dict(Journey.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "template":
        return dict(MessageTemplate.objects.filter(pk__in=keys).values_list("pk", "name"))
    steps = Step.objects.filter(pk__in=keys).values_list("pk", "journey__name", "key")
    return {pk: f"{journey} → {key}" for pk, journey, key in steps}


def _template_opt_outs(rows) -> list[tuple[str, float, int]]:
    """(template, opt-out rate, messages sent) for each template that sent anything."""
    grouped = (
        rows.exclude(template_id=0)
        .values("template_id")
        .annotate(sent=Sum("sent"), opt_outs=Sum("opt_outs"))
        .filter(sent__gt=0)
        .order_by("template_id")
    )
    names = _labels("template", [row["template_id"] for row in grouped])
    rates = [
        (
            names.get(row["template_id"], f"#{row['template_id']}"),
            row["opt_outs"] / row["sent"],
            row["sent"],
        )
        for row in grouped
    ]
    return sorted(rates, key=lambda item: -item[1])


def _lifts(rows) -> list[tuple[str, Lift | None, int]]:
    """Holdout lift for each journey that had a holdout in the range."""
    grouped = (
        rows.values("journey_id")
        .annotate(
            messaged=Sum("enrolled"),
            messaged_converted=Sum("converted"),
            holdout=Sum("enrolled_holdout"),
            holdout_converted=Sum("converted_holdout"),
        )
        .filter(holdout__gt=0)
        .order_by("journey_id")
    )
    names = _labels("journey", [row["journey_id"] for row in grouped])
    return [
        (
            names.get(row["journey_id"], f"#{row['journey_id']}"),
            holdout_lift(
                messaged=row["messaged"],
                messaged_converted=row["messaged_converted"],
                holdout=row["holdout"],
                holdout_converted=row["holdout_converted"],
            ),
            row["journey_id"],
        )
        for row in grouped
    ]


def journey_lift(*, journey_id: int, start: date, end: date) -> Lift | None:
    """The holdout lift of one journey over enrollments that entered in [start, end]."""
    filters = DashboardFilters(start=start, end=end, journey_id=journey_id)
    lifts = _lifts(rollups_for(filters))
    return lifts[0][1] if lifts else None


def attributed_totals(*, start, end, journey_id: int | None = None) -> dict[str, float]:
    """Credit per conversion kind (and revenue) of conversions in [start, end) — what the
    rollups sum to, read straight from the attribution rows."""
    rows = Attribution.objects.filter(converted_at__gte=start, converted_at__lt=end)
    if journey_id:
        rows = rows.filter(journey_id=journey_id)
    totals = dict.fromkeys(ConversionKind.values, 0.0)
    for kind, credit in rows.values_list("kind").annotate(credit=Sum("credit")).order_by():
        totals[kind] = credit
    revenue = ExpressionWrapper(F("value") * F("credit"), output_field=FloatField())
    won = rows.filter(kind=ConversionKind.CLOSED_WON).aggregate(revenue=Sum(revenue))
    totals["revenue"] = won["revenue"] or 0.0
    return totals


ATTRIBUTION_EXPORT_COLUMNS = [
    "conversion", "conversion_id", "contact_id", "converted_at", "value", "message_id",
    "touch_type", "touched_at", "journey", "template", "template_version_id", "step",
    "credit", "revenue_credit", "model",
]  # fmt: skip


def attribution_export_rows(*, start, end, journey_id: int | None = None):
    """Attribution rows of conversions in [start, end), oldest first, for the CSV export."""
    rows = Attribution.objects.filter(converted_at__gte=start, converted_at__lt=end)
    if journey_id:
        rows = rows.filter(journey_id=journey_id)
    journeys = dict(Journey.objects.values_list("pk", "name"))
    templates = dict(MessageTemplate.objects.values_list("pk", "name"))
    steps = dict(Step.objects.values_list("pk", "key"))
    for row in rows.order_by("converted_at", "kind", "conversion_id", "id").iterator(2000):
        yield [
            row.kind,
            row.conversion_id,
            row.contact_id,
            row.converted_at,
            row.value,
            row.message_id,
            row.touch_type,
            row.touched_at,
            journeys.get(row.journey_id, ""),
            templates.get(row.template_id, ""),
            row.template_version_id or "",
            steps.get(row.step_id, ""),
            round(row.credit, 6),
            round(float(row.value) * row.credit, 2),
            row.model,
        ]
