"""Quiet hours: may a marketing text reach this contact now, in their own local time?

The recipient's time zone is often uncertain (no stated zone, a state spanning two zones, an
area code straddling a zone line, a toll-free number), so every zone they could be in is a
candidate and a moment counts as allowed only when it is inside the sending window in all of
them. The window is the configured default narrowed by the recipient's country rule, every
state rule that covers them and their personal window; a country with no rule is held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apps.sends.quiet_hours.rules import LegalRule, QuietHoursRules, load_rules
from apps.sends.quiet_hours.windows import (
    SEARCH_HORIZON,
    LocalWindow,
    WeeklyWindows,
    is_inside,
    is_inside_everywhere,
    next_allowed_moment,
    window_closes_at,
)
from apps.sends.quiet_hours.zones import (
    applicable_state_rules,
    candidate_zones,
    recipient_countries,
)

# Federal baseline: 47 C.F.R. §64.1200(c)(1) bars telephone solicitations before 8 a.m. and
# after 9 p.m. at the called party's location.
DEFAULT_WINDOW = (time(8), time(21))

# Twilio's ValidityPeriod accepts whole seconds from 1 to 36,000 (10 hours); a message still
# queued when it elapses fails instead of being delivered late.
TWILIO_MIN_VALIDITY_SECONDS = 1
TWILIO_MAX_VALIDITY_SECONDS = 36_000

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

US_RULE = "country:US"

# A reason names each candidate zone up to this many; beyond, it gives their number.
_NAMED_ZONES_MAX = 6

HOLD_ZONE_UNKNOWN = "zone_unknown"
HOLD_NO_COMMON_WINDOW = "no_common_window"
HOLD_COUNTRY_UNSUPPORTED = "country_unsupported"


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


def effective_schedule(
    *,
    state_rules: Iterable[LegalRule],
    personal_window: tuple[time, time] | None,
    default_window: tuple[time, time],
    country_rules: Iterable[LegalRule] = (),
) -> tuple[WeeklyWindows, str]:
    """The default window narrowed by every country and state rule and the personal window,
    and its label. The default window is the US rule itself (CUE_QUIET_HOURS_DEFAULT,
    08:00-21:00 from 47 C.F.R. §64.1200(c)(1)), so the US row narrows nothing further."""
    schedule = WeeklyWindows.every_day(LocalWindow(*default_window))
    labels = []
    for rule in [*country_rules, *state_rules]:
        if rule.key == US_RULE:
            continue
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
    countries = recipient_countries(country=country, phone_e164=phone_e164)
    country_rules = [rules.country_rule(code) for code in countries]
    state_rules = applicable_state_rules(
        region=region, country=country, phone_e164=phone_e164, rules=rules
    )
    schedule, label = effective_schedule(
        state_rules=state_rules,
        personal_window=personal_window,
        default_window=default_window,
        country_rules=[rule for rule in country_rules if rule is not None],
    )
    context = _Context(moment, tuple(zones), source, schedule, label)
    unsupported = [code for code, rule in zip(countries, country_rules, strict=True) if not rule]
    if unsupported:
        return _held(context, HOLD_COUNTRY_UNSUPPORTED, _unsupported_reason(unsupported))
    return _decide(context)


def _unsupported_reason(countries: list[str]) -> str:
    names = ", ".join(countries)
    return (
        f"Cue has no sending-hours rule for {names}; the message is held rather than sent on "
        "another country's rules"
    )


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
            return _zone_outside_reason(context, zone) + _candidates_note(context)
    raise AssertionError("_outside_reason called for an allowed moment")


def _candidates_note(context: _Context) -> str:
    # A number's area code can straddle a zone line: say which zones it could be in.
    if context.source != "phone" or len(context.zones) < 2:
        return ""
    if len(context.zones) > _NAMED_ZONES_MAX:
        return f"; the number could be in any of {len(context.zones)} zones"
    return f"; the number could be in {', '.join(zone.key for zone in context.zones)}"


def _zone_outside_reason(context: _Context, zone: ZoneInfo) -> str:
    local = context.moment.astimezone(zone)
    window = context.schedule.for_day(local.date())
    if window is None:
        day = _WEEKDAY_NAMES[local.weekday()]
        return f"{day} in {zone.key} has no sending window ({context.label})"
    return f"{local:%H:%M} in {zone.key} is outside {window.label()} ({context.label})"


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
