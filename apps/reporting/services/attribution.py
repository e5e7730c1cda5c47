from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.contacts.models import Event, EventType, OpportunityStageChange
from apps.reporting.attribution import Rule, attribution_insert
from apps.reporting.models import Attribution, AttributionSettings
from apps.reporting.rollups import day_bounds
from apps.reporting.services.common import day_ranges, state_lock

# Sources of conversions, each read above its watermark on refresh: (model, time field, filter)
CONVERSION_SOURCES = {
    "meeting": (Event, "occurred_at", {"type": EventType.MEETING_BOOKED}),
    "stage_change": (OpportunityStageChange, "changed_at", {}),
}


@transaction.atomic
def attribution_rebuild(
    *, start: datetime, end: datetime, rules: AttributionSettings | None = None
) -> int:
    """Replaces the Attribution rows of the conversions in [start, end) with what the
    current rule says; returns how many rows it wrote."""
    state_lock("attribution-rebuild")
    Attribution.objects.filter(converted_at__gte=start, converted_at__lt=end).delete()
    return attribution_insert(rule=Rule.from_settings(rules), start=start, end=end)


def attribution_days_rebuild(*, days: set[date]) -> int:
    written = 0
    for first, last in day_ranges(days):
        start, end = day_bounds(first, last)
        written += attribution_rebuild(start=start, end=end)
    return written


@transaction.atomic
def attribution_refresh(*, today: date | None = None) -> set[date]:
    """Rebuilds the days that conversions added since the last run fall on, and the last
    two days; the first run rebuilds everything within the message retention period.
    Returns the days rebuilt."""
    today = today or timezone.localdate()
    state = state_lock("attribution")
    until = {
        name: model.objects.aggregate(top=Max("pk"))["top"] or 0
        for name, (model, _, _) in CONVERSION_SOURCES.items()
    }
    days = {today, today - timedelta(days=1)}
    if not state.watermarks:
        days |= _all_days(today)
    else:
        days |= _new_conversion_days(since=state.watermarks, until=until)
    attribution_days_rebuild(days=days)
    state.watermarks, state.last_run_at = until, timezone.now()
    state.last_days = [day.isoformat() for day in sorted(days)][-60:]
    state.save()
    return days


def _new_conversion_days(*, since: dict, until: dict) -> set[date]:
    days: set[date] = set()
    for name, (model, field, filters) in CONVERSION_SOURCES.items():
        new = model.objects.filter(pk__gt=since.get(name, 0), pk__lte=until[name], **filters)
        rows = new.annotate(d=TruncDate(field)).values_list("d", flat=True).distinct().order_by()
        days |= set(rows)
    return days


def _all_days(today: date) -> set[date]:
    """Every day since the earliest conversion, within the message retention period."""
    floor = today - timedelta(days=settings.CUE_RETENTION_MESSAGE_DAYS)
    earliest = [
        model.objects.filter(**filters).aggregate(first=Min(field))["first"]
        for model, field, filters in CONVERSION_SOURCES.values()
    ]
    found = [timezone.localdate(moment) for moment in earliest if moment is not None]
    first = max(min(found), floor) if found else today
    return {first + timedelta(days=n) for n in range((today - first).days + 1)}
