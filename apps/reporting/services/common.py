from datetime import date, timedelta

from apps.reporting.models import RollupState


def state_lock(name: str) -> RollupState:
    """The named state row, locked until the transaction ends: one refresh at a time."""
    state, _ = RollupState.objects.select_for_update().get_or_create(name=name)
    return state


def day_ranges(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges, in order."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges
