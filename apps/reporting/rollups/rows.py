"""The rows a rollup run builds: counters by (day, journey, template version, step), and the
shared pieces every source uses to add to them."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.library.models import TemplateVersion
from apps.reporting.models import DailyRollup
from apps.sends.models import MessageOrigin, OutboundMessage

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


class Rows:
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


def journey_messages():
    return OutboundMessage.objects.filter(origin=MessageOrigin.JOURNEY, journey_id__isnull=False)


def dims_of(row: dict, prefix: str = "") -> tuple:
    return tuple(row[f"{prefix}{name}"] for name in DIMENSIONS)


def by_day(queryset, field: str, start, end, *extra, **aggregates):
    return (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(day=TruncDate(field))
        .values("day", *extra)
        .annotate(**aggregates)
        .order_by()
    )


def message_dims(ids: set[int]) -> dict[int, tuple]:
    """{message id: (journey, version, step)} for those of `ids` that journeys sent."""
    found: dict[int, tuple] = {}
    ordered = sorted(i for i in ids if i is not None)
    for index in range(0, len(ordered), MESSAGE_CHUNK):
        chunk = ordered[index : index + MESSAGE_CHUNK]
        for row in journey_messages().filter(pk__in=chunk).values("pk", *DIMENSIONS):
            found[row["pk"]] = dims_of(row)
    return found


def per_message(rows: Rows, grouped, counter: str) -> None:
    """Rows of (day, mid, n) credited to the journey message `mid`, when it is one."""
    grouped = list(grouped)
    dims = message_dims({row["mid"] for row in grouped})
    for row in grouped:
        if row["mid"] in dims:
            rows.add(row["day"], dims[row["mid"]], counter, row["n"])
