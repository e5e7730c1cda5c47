"""Sending windows on a wall clock, and the moments they open and close in a zone.

A moment is allowed in one zone when that zone's wall clock reads a time inside the window of
that local day: start inclusive, end exclusive. Because wall clocks jump at DST transitions,
the earliest allowed moment after a refusal is always either the asked-for moment, a moment
where some zone's clock reads a window start, or a moment where some zone's offset changes.
The search checks exactly those candidates, so it never assumes 24-hour days and never
steps minute by minute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A common window that is not found within this horizon is treated as never existing.
SEARCH_HORIZON = timedelta(days=8)

# Offsets change at most twice a year, never twice within six hours, so sampling at this step
# finds every transition.
_TRANSITION_PROBE_STEP = timedelta(hours=6)

_EN_DASH = "\u2013"


@dataclass(frozen=True)
class LocalWindow:
    """A wall-clock sending window within one local day: ``start`` inclusive, ``end`` exclusive."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times and must be naive")
        if not self.start < self.end:
            raise ValueError(f"window start {self.start} must be before its end {self.end}")

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def narrowed_by(self, other: LocalWindow | None) -> LocalWindow | None:
        """The overlap of both windows, or None when they do not overlap."""
        if other is None:
            return None
        start, end = max(self.start, other.start), min(self.end, other.end)
        return LocalWindow(start, end) if start < end else None

    def label(self) -> str:
        return f"{self.start:%H:%M}{_EN_DASH}{self.end:%H:%M}"


@dataclass(frozen=True)
class WeeklyWindows:
    """One optional window per weekday, Monday first; None means no sending that day."""

    days: tuple[LocalWindow | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError("a week has seven days")

    @classmethod
    def every_day(cls, window: LocalWindow) -> WeeklyWindows:
        return cls(days=(window,) * 7)

    def for_day(self, day: date) -> LocalWindow | None:
        return self.days[day.weekday()]

    def narrowed_by(self, other: WeeklyWindows) -> WeeklyWindows:
        return WeeklyWindows(
            days=tuple(
                mine.narrowed_by(theirs) if mine else None
                for mine, theirs in zip(self.days, other.days, strict=True)
            )
        )


def is_inside(moment: datetime, zone: ZoneInfo, schedule: WeeklyWindows) -> bool:
    """Whether the zone's wall clock at ``moment`` is inside that local day's window."""
    local = moment.astimezone(zone)
    window = schedule.for_day(local.date())
    return window is not None and window.contains(local.time())


def is_inside_everywhere(
    moment: datetime, zones: Iterable[ZoneInfo], schedule: WeeklyWindows
) -> bool:
    return all(is_inside(moment, zone, schedule) for zone in zones)


def next_allowed_moment(
    moment: datetime, zones: tuple[ZoneInfo, ...], schedule: WeeklyWindows
) -> datetime | None:
    """The earliest moment at or after ``moment`` inside the window in every zone, in UTC.

    Each zone's allowed set is a union of intervals closed on the left, opening where its
    clock reaches a window start or where its offset jumps; so is their intersection, whose
    first point after ``moment`` is therefore ``moment`` itself or one of those openings.
    """
    start = moment.astimezone(UTC)
    horizon = start + SEARCH_HORIZON
    openings = {start}
    for zone in zones:
        openings.update(_boundaries(zone, start, horizon, _window_starts(schedule)))
    candidates = sorted(c for c in openings if start <= c <= horizon)
    return next((c for c in candidates if is_inside_everywhere(c, zones, schedule)), None)


def window_closes_at(
    moment: datetime, zone: ZoneInfo, schedule: WeeklyWindows, horizon: datetime
) -> datetime | None:
    """The first moment after ``moment`` (up to ``horizon``) at which the zone is outside."""
    closings = _boundaries(zone, moment, horizon, _window_ends(schedule))
    candidates = sorted(c for c in closings if moment < c <= horizon)
    return next((c for c in candidates if not is_inside(c, zone, schedule)), None)


def _window_starts(schedule: WeeklyWindows) -> Callable[[date], list[time]]:
    def starts(day: date) -> list[time]:
        window = schedule.for_day(day)
        return [window.start] if window else []

    return starts


def _window_ends(schedule: WeeklyWindows) -> Callable[[date], list[time]]:
    # Midnight is included because a window ending at the last instant of a day closes there.
    def ends(day: date) -> list[time]:
        window = schedule.for_day(day)
        return [window.end, time(0)] if window else [time(0)]

    return ends


def _boundaries(
    zone: ZoneInfo, start: datetime, end: datetime, wall_times: Callable[[date], list[time]]
) -> Iterator[datetime]:
    """Moments where the zone's clock reads one of the day's wall times, plus offset changes."""
    for day in _local_days(zone, start, end):
        for wall_time in wall_times(day):
            yield from _moments_at_wall_time(zone, datetime.combine(day, wall_time))
    yield from _offset_changes(zone, start, end)


def _local_days(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def _moments_at_wall_time(zone: ZoneInfo, wall: datetime) -> Iterator[datetime]:
    """Every UTC moment whose local time in ``zone`` is ``wall``: none in a gap, two in a fold."""
    for fold in (0, 1):
        moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if moment.astimezone(zone).replace(tzinfo=None) == wall:
            yield moment


def _offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    probe = start - _TRANSITION_PROBE_STEP
    while probe <= end:
        following = probe + _TRANSITION_PROBE_STEP
        if probe.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            yield _first_moment_of_new_offset(zone, probe, following)
        probe = following


def _first_moment_of_new_offset(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    # Transitions fall on whole seconds, so bisecting over integer timestamps lands exactly.
    old_offset = before.astimezone(zone).utcoffset()
    low, high = int(before.timestamp()), int(after.timestamp()) + 1
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == old_offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
