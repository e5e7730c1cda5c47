"""Quiet hours: may a marketing text reach this contact now, in their own local time?

The recipient's time zone is often uncertain (no stated zone, a state spanning two zones, a
toll-free number), so every zone they could be in is a candidate and a moment counts as allowed
only when it is inside the sending window in all of them.

A moment is allowed in one zone when that zone's wall clock reads a time inside the window of
that local day: start inclusive, end exclusive. Because wall clocks jump at DST transitions,
the earliest allowed moment after a refusal is always either the asked-for moment, a moment
where some zone's clock reads a window start, or a moment where some zone's offset changes.
The search checks exactly those candidates, so it never assumes 24-hour days and never
steps minute by minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

RULES_PATH = Path(__file__).parent / "data" / "quiet_hours_rules.json"

# Federal baseline: 47 C.F.R. §64.1200(c)(1) bars telephone solicitations before 8 a.m. and
# after 9 p.m. at the called party's location.
DEFAULT_WINDOW = (time(8), time(21))

# A common window that is not found within this horizon is treated as never existing.
SEARCH_HORIZON = timedelta(days=8)

# Twilio's ValidityPeriod accepts whole seconds from 1 to 36,000 (10 hours); a message still
# queued when it elapses fails instead of being delivered late.
TWILIO_MIN_VALIDITY_SECONDS = 1
TWILIO_MAX_VALIDITY_SECONDS = 36_000

# phonenumbers answers "Etc/Unknown" when it cannot place a number; that is no answer at all.
_PHONE_UNKNOWN_ZONE = "Etc/Unknown"

# Offsets change at most twice a year, never twice within six hours, so sampling at this step
# finds every transition.
_TRANSITION_PROBE_STEP = timedelta(hours=6)

_EN_DASH = "\u2013"
_WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

HOLD_ZONE_UNKNOWN = "zone_unknown"
HOLD_NO_COMMON_WINDOW = "no_common_window"


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


@dataclass(frozen=True)
class StateRule:
    """A state's stricter solicitation hours, with the statute they come from."""

    state: str
    windows: WeeklyWindows
    citation: str

    @property
    def label(self) -> str:
        return f"state:{self.state}"


@dataclass(frozen=True)
class QuietHoursRules:
    """The data table: state rules, area code to state, and region to candidate zones."""

    state_rules: Mapping[str, StateRule]
    area_code_states: Mapping[str, str]
    region_zones: Mapping[tuple[str, str], tuple[str, ...]]


@dataclass(frozen=True)
class QuietHoursDecision:
    """Whether a send may go out at ``checked_at``, and if not, when it first may.

    ``next_allowed_at`` is the earliest moment at or after ``checked_at`` that is inside the
    window in every candidate zone (``checked_at`` itself when allowed), in UTC. ``held`` means
    no such moment can be computed: ``hold_code`` says whether the zone is unknown or the
    windows of the candidate zones never overlap within the search horizon.
    """

    checked_at: datetime
    allowed: bool
    held: bool
    hold_code: str | None
    next_allowed_at: datetime | None
    zones: tuple[str, ...]
    zone_source: str
    window_rule: str
    reason: str
    schedule: WeeklyWindows


@cache
def load_rules(path: Path = RULES_PATH) -> QuietHoursRules:
    """Read and validate the JSON data table once per process."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return QuietHoursRules(
        state_rules={
            state: _parse_state_rule(state, entry) for state, entry in raw["state_rules"].items()
        },
        area_code_states={
            code: state for state, codes in raw["area_codes"]["by_state"].items() for code in codes
        },
        region_zones={
            (country, region): tuple(zones)
            for country, regions in raw["region_zones"]["by_country"].items()
            for region, zones in regions.items()
        },
    )


def _parse_state_rule(state: str, entry: Mapping) -> StateRule:
    windows = entry["windows"]
    fallback = windows.get("default")
    days = tuple(_parse_window(windows.get(key, fallback)) for key in _WEEKDAY_KEYS)
    return StateRule(state=state, windows=WeeklyWindows(days=days), citation=entry["citation"])


def _parse_window(pair: list[str] | None) -> LocalWindow | None:
    if pair is None:
        return None
    start, end = (time.fromisoformat(value) for value in pair)
    return LocalWindow(start, end)


# --- Which zones could the contact be in -------------------------------------------------


def candidate_zones(
    *,
    time_zone: str | None,
    region: str | None,
    country: str = "US",
    phone_e164: str | None,
    rules: QuietHoursRules | None = None,
) -> tuple[list[ZoneInfo], str]:
    """Every zone the contact could be in, and where that came from.

    The contact's stated zone wins, then their address region, then the phone number; the
    source is "contact", "address", "phone" or "unknown" (no zones).
    """
    rules = rules or load_rules()
    if zone := _stated_zone(time_zone):
        return [zone], "contact"
    if zones := _address_zones(region, country, rules):
        return zones, "address"
    if zones := _phone_zones(phone_e164):
        return zones, "phone"
    return [], "unknown"


def _stated_zone(name: str | None) -> ZoneInfo | None:
    # An unrecognised stated zone is treated as absent so the address or phone can still help.
    if not name or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _address_zones(region: str | None, country: str, rules: QuietHoursRules) -> list[ZoneInfo]:
    key = _region_key(region, country)
    return [ZoneInfo(name) for name in rules.region_zones.get(key, ())] if key else []


def _region_key(region: str | None, country: str) -> tuple[str, str] | None:
    """Normalise "fl", " FL " or "US-FL" to ("US", "FL")."""
    if not region or not region.strip():
        return None
    code = region.strip().upper()
    if "-" in code:
        country, code = code.split("-", 1)
    return (country.strip().upper(), code)


def _phone_zones(phone_e164: str | None) -> list[ZoneInfo]:
    number = _parse_phone(phone_e164)
    if number is None:
        return []
    names = phone_timezone.time_zones_for_number(number)
    return [ZoneInfo(name) for name in names if name != _PHONE_UNKNOWN_ZONE]


def _parse_phone(phone_e164: str | None) -> phonenumbers.PhoneNumber | None:
    if not phone_e164:
        return None
    try:
        return phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return None


# --- Which window applies ----------------------------------------------------------------


def applicable_state_rules(
    *, region: str | None, country: str = "US", phone_e164: str | None, rules: QuietHoursRules
) -> list[StateRule]:
    """State rules for the address state and for the phone's area code, when they have one.

    The area-code rule applies even when the address names another state: Florida, Oklahoma
    and Connecticut presume that a number with one of their area codes reaches a resident, and
    a stale address must not switch that protection off.
    """
    states = [_address_state(region, country), _area_code_state(phone_e164, rules)]
    unique = dict.fromkeys(state for state in states if state in rules.state_rules)
    return [rules.state_rules[state] for state in unique]


def _address_state(region: str | None, country: str) -> str | None:
    key = _region_key(region, country)
    return key[1] if key and key[0] == "US" else None


def _area_code_state(phone_e164: str | None, rules: QuietHoursRules) -> str | None:
    number = _parse_phone(phone_e164)
    if number is None or number.country_code != 1:
        return None
    return rules.area_code_states.get(str(number.national_number)[:3])


def effective_schedule(
    *,
    state_rules: Iterable[StateRule],
    personal_window: tuple[time, time] | None,
    default_window: tuple[time, time],
) -> tuple[WeeklyWindows, str]:
    """The default window narrowed by every state rule and the personal window, and its label."""
    schedule = WeeklyWindows.every_day(LocalWindow(*default_window))
    labels = []
    for rule in state_rules:
        schedule = schedule.narrowed_by(rule.windows)
        labels.append(rule.label)
    if personal_window is not None:
        schedule = schedule.narrowed_by(WeeklyWindows.every_day(LocalWindow(*personal_window)))
        labels.append("personal")
    return schedule, "+".join(labels) or "default"


# --- The check ---------------------------------------------------------------------------


def quiet_hours_check(
    *,
    at: datetime,
    time_zone: str | None,
    region: str | None,
    phone_e164: str | None,
    country: str = "US",
    personal_window: tuple[time, time] | None = None,
    default_window: tuple[time, time] = DEFAULT_WINDOW,
    rules: QuietHoursRules | None = None,
) -> QuietHoursDecision:
    """Decide whether a marketing send to this contact may go out at ``at`` (timezone-aware)."""
    moment = _as_utc(at)
    rules = rules or load_rules()
    zones, source = candidate_zones(
        time_zone=time_zone, region=region, country=country, phone_e164=phone_e164, rules=rules
    )
    state_rules = applicable_state_rules(
        region=region, country=country, phone_e164=phone_e164, rules=rules
    )
    schedule, label = effective_schedule(
        state_rules=state_rules, personal_window=personal_window, default_window=default_window
    )
    context = _Context(moment, tuple(zones), source, schedule, label)
    return _decide(context)


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime would silently be read in the server's zone; refuse it instead.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("quiet hours need a timezone-aware datetime")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class _Context:
    """Everything one check has resolved, so each outcome is built the same way."""

    moment: datetime
    zones: tuple[ZoneInfo, ...]
    source: str
    schedule: WeeklyWindows
    label: str

    def decision(self, **outcome) -> QuietHoursDecision:
        return QuietHoursDecision(
            checked_at=self.moment,
            zones=tuple(zone.key for zone in self.zones),
            zone_source=self.source,
            window_rule=self.label,
            schedule=self.schedule,
            **outcome,
        )


def _decide(context: _Context) -> QuietHoursDecision:
    if not context.zones:
        return _held(context, HOLD_ZONE_UNKNOWN, "no time zone is known for this contact")
    if is_inside_everywhere(context.moment, context.zones, context.schedule):
        return context.decision(
            allowed=True,
            held=False,
            hold_code=None,
            next_allowed_at=context.moment,
            reason=_inside_reason(context),
        )
    return _refusal(context)


def _refusal(context: _Context) -> QuietHoursDecision:
    next_allowed = next_allowed_moment(context.moment, context.zones, context.schedule)
    if next_allowed is None:
        days = SEARCH_HORIZON.days
        reason = f"no moment within {days} days is inside the window in every candidate zone"
        return _held(context, HOLD_NO_COMMON_WINDOW, f"{reason} ({context.label})")
    return context.decision(
        allowed=False,
        held=False,
        hold_code=None,
        next_allowed_at=next_allowed,
        reason=_outside_reason(context),
    )


def _held(context: _Context, code: str, reason: str) -> QuietHoursDecision:
    return context.decision(
        allowed=False, held=True, hold_code=code, next_allowed_at=None, reason=reason
    )


def _inside_reason(context: _Context) -> str:
    if len(context.zones) > 1:
        count = len(context.zones)
        return f"inside the window in all {count} candidate zones ({context.label})"
    zone = context.zones[0]
    local = context.moment.astimezone(zone)
    window = context.schedule.for_day(local.date())
    return f"{local:%H:%M} in {zone.key} is inside {window.label()} ({context.label})"


def _outside_reason(context: _Context) -> str:
    for zone in context.zones:
        if not is_inside(context.moment, zone, context.schedule):
            return _zone_outside_reason(context, zone)
    raise AssertionError("_outside_reason called for an allowed moment")


def _zone_outside_reason(context: _Context, zone: ZoneInfo) -> str:
    local = context.moment.astimezone(zone)
    window = context.schedule.for_day(local.date())
    if window is None:
        day = _WEEKDAY_NAMES[local.weekday()]
        return f"{day} in {zone.key} has no sending window ({context.label})"
    return f"{local:%H:%M} in {zone.key} is outside {window.label()} ({context.label})"


# --- Moments and windows -----------------------------------------------------------------


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


# --- Twilio validity ---------------------------------------------------------------------


def message_validity_seconds(
    *, decision: QuietHoursDecision, at: datetime | None = None
) -> int | None:
    """Seconds a message sent at ``at`` may wait in Twilio's queue without landing in quiet hours.

    This is the time until the window closes in the earliest-closing candidate zone, rounded
    down and capped at Twilio's 36,000-second maximum. None means do not send now: the moment
    is outside the window, or less than the 1-second minimum remains.
    """
    moment = _as_utc(at or decision.checked_at)
    zones = tuple(ZoneInfo(name) for name in decision.zones)
    if not zones or not is_inside_everywhere(moment, zones, decision.schedule):
        return None
    seconds = _whole_seconds_until_close(moment, zones, decision.schedule)
    return seconds if seconds >= TWILIO_MIN_VALIDITY_SECONDS else None


def _whole_seconds_until_close(
    moment: datetime, zones: tuple[ZoneInfo, ...], schedule: WeeklyWindows
) -> int:
    # Closings are only searched up to the cap, so the result never exceeds it.
    horizon = moment + timedelta(seconds=TWILIO_MAX_VALIDITY_SECONDS)
    closings = [c for zone in zones if (c := window_closes_at(moment, zone, schedule, horizon))]
    if not closings:
        return TWILIO_MAX_VALIDITY_SECONDS
    return (min(closings) - moment) // timedelta(seconds=1)
