"""The counters of a range of days, per day × journey × template version × step: each source
is one aggregate query (GROUP BY day and the dimensions); only aggregated rows come back to
Python, where they are merged by key."""

from datetime import date

from apps.reporting.models import DailyRollup
from apps.reporting.rollups.messages import (
    clicks,
    message_counts,
    opt_outs_and_complaints,
    replies,
    rule_hits,
)
from apps.reporting.rollups.outcomes import attributed, enrollments, tasks
from apps.reporting.rollups.rows import Rows, day_bounds

SOURCES = (
    enrollments,
    message_counts,
    clicks,
    replies,
    opt_outs_and_complaints,
    rule_hits,
    tasks,
    attributed,
)


def rollup_rows(*, first: date, last: date) -> list[DailyRollup]:
    """Unsaved DailyRollup rows for every day from `first` to `last`, both included."""
    start, end = day_bounds(first, last)
    rows = Rows()
    for source in SOURCES:
        source(rows, start, end)
    return rows.models()
