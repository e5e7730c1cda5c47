"""Daily rollups: the counters the dashboard reads, computed set-based per day range
(`counters`, from the sources in `messages` and `outcomes`), and which days rows added
since the last run touch (`touched`)."""

from apps.reporting.rollups.counters import rollup_rows
from apps.reporting.rollups.rows import FIRST_TOUCH_BUCKETS, day_bounds, first_touch_bucket
from apps.reporting.rollups.touched import touched_days, watermarks_now

__all__ = [
    "FIRST_TOUCH_BUCKETS",
    "day_bounds",
    "first_touch_bucket",
    "rollup_rows",
    "touched_days",
    "watermarks_now",
]
