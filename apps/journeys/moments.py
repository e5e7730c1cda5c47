"""Waiting until a time the triggering event carries: "1 h before the webinar starts".

A wait step with `until_property` ends at the time in that property of the event that
started the enrollment, moved by `offset_minutes` (negative: before). The moment is
"missed" when the event has no usable time, or when it went by more than
`late_after_minutes` ago (a reminder an hour before a webinar that started yesterday
helps nobody); the step then follows `on_missed`, or ends the journey.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LATE_AFTER_MINUTES = 60
MAX_OFFSET_MINUTES = 60 * 24 * 60  # sixty days either way
PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Moment:
    at: datetime | None
    missed: bool
    reason: str


def moment_label(config: dict) -> str:
    """`{"until_property": "starts_at", "offset_minutes": -60}` is "1 h before starts_at"."""
    name = config.get("until_property") or "?"
    offset = config.get("offset_minutes") or 0
    if not isinstance(offset, int) or offset == 0:
        return f"at {name}"
    amount = abs(offset)
    size = f"{amount // 60:g} h" if amount % 60 == 0 else f"{amount} min"
    return f"{size} {'before' if offset < 0 else 'after'} {name}"


def event_moment(config: dict, properties: dict | None, *, zone: str, now: datetime) -> Moment:
    """When a wait until the event's time ends, or why it cannot."""
    name = config.get("until_property", "")
    anchor = _time_parse((properties or {}).get(name), zone)
    if anchor is None:
        return Moment(None, True, f"The triggering event gives no time in {name!r}.")
    at = anchor + timedelta(minutes=config.get("offset_minutes") or 0)
    late = timedelta(minutes=config.get("late_after_minutes", LATE_AFTER_MINUTES))
    when = f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if now > at + late:
        return Moment(at, True, f"{moment_label(config)} was {when}: too late to act on.")
    return Moment(at, False, f"Waiting until {when} ({moment_label(config)}).")


def moment_config_problems(config: dict) -> list[str]:
    """What keeps a wait-until-the-event's-time config from working, in words."""
    problems = []
    if not PROPERTY_NAME.match(str(config.get("until_property", ""))):
        problems.append("name the event property that holds the time (letters, digits, _ . -).")
    offset = config.get("offset_minutes", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or abs(offset) > MAX_OFFSET_MINUTES:
        problems.append("give the minutes from that time as a whole number within 60 days.")
    late = config.get("late_after_minutes", LATE_AFTER_MINUTES)
    if not isinstance(late, int) or isinstance(late, bool) or late < 0:
        problems.append("give 'too late after' as zero or more minutes.")
    if any(config.get(unit) for unit in ("minutes", "hours", "days")):
        problems.append("wait either a duration or until the event's time, not both.")
    return problems


def _time_parse(raw, zone: str) -> datetime | None:
    """An ISO 8601 time; one without an offset is read in the contact's time zone."""
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(zone))
    return value


def _zone(name: str):
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
