"""Which zones, and which countries' and states' rules, could the recipient be under?

The contact's stated zone wins, then their address region, then the phone number. A phone
number gives every zone libphonenumber names for it united with every zone its area code's
territory keeps (the split area code table): libphonenumber gives one zone for most codes
that straddle a zone line, and that one zone is not enough to keep a text out of quiet hours.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from apps.contacts.nanp import nanp_region
from apps.sends.quiet_hours.rules import LegalRule, QuietHoursRules, load_rules

# phonenumbers answers "Etc/Unknown" when it cannot place a number; that is no answer at all.
_PHONE_UNKNOWN_ZONE = "Etc/Unknown"


def candidate_zones(
    *,
    time_zone: str | None,
    region: str | None,
    country: str = "US",
    phone_e164: str | None,
    rules: QuietHoursRules | None = None,
) -> tuple[list[ZoneInfo], str]:
    """Every zone the contact could be in, and where that came from.

    The source is "contact", "address", "phone" or "unknown" (no zones).
    """
    rules = rules or load_rules()
    if zone := _stated_zone(time_zone):
        return [zone], "contact"
    if zones := _address_zones(region, country, rules):
        return zones, "address"
    if zones := phone_zones(phone_e164, rules):
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


def phone_zones(phone_e164: str | None, rules: QuietHoursRules | None = None) -> list[ZoneInfo]:
    """libphonenumber's zones for the number, united with its split area code's zones."""
    if not phone_e164 or _phone_facts(phone_e164) is None:
        return []
    names = list(_phone_zone_names(phone_e164))
    split = split_area_code(phone_e164, rules or load_rules())
    if split is not None:
        names += split.zones
    return [ZoneInfo(name) for name in dict.fromkeys(names)]


def split_area_code(phone_e164: str | None, rules: QuietHoursRules):
    """The split area code table's row for this number, if its area code spans zones."""
    code = _area_code(phone_e164)
    return rules.split_area_codes.get(code) if code else None


def _area_code(phone_e164: str | None) -> str | None:
    facts = _phone_facts(phone_e164) if phone_e164 else None
    return facts.area_code if facts else None


class _PhoneFacts(NamedTuple):
    area_code: str | None  # a North American number's, else None
    region: str | None  # the country it is dialled in


@lru_cache(maxsize=65_536)
def _phone_number(phone_e164: str) -> phonenumbers.PhoneNumber | None:
    """The number parsed, once: a gate decision asks it several questions, and parsing
    costs more than the rest of the quiet hours check. (Read only, never changed.)"""
    try:
        return phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=65_536)
def _phone_facts(phone_e164: str) -> _PhoneFacts | None:
    """What the number itself says of its country and area code, which every check asks."""
    region = nanp_region(phone_e164)
    if region is not False:  # "+1" and ten digits: read without parsing, the same answer
        return _PhoneFacts(phone_e164[2:5], region)
    number = _phone_number(phone_e164)
    if number is None:
        return None
    return _PhoneFacts(
        str(number.national_number)[:3] if number.country_code == 1 else None,
        phonenumbers.region_code_for_number(number),
    )


@lru_cache(maxsize=65_536)
def _phone_zone_names(phone_e164: str) -> tuple[str, ...]:
    """libphonenumber's zones for the number: asked only when neither the contact nor its
    address names one (it costs as much again as the parse)."""
    zones = phone_timezone.time_zones_for_number(_phone_number(phone_e164))
    return tuple(name for name in zones if name != _PHONE_UNKNOWN_ZONE)


# --- Which rules apply -------------------------------------------------------------------


def recipient_countries(*, country: str | None, phone_e164: str | None) -> list[str]:
    """The contact's country and the phone number's, when they differ: both countries' rules
    apply, since either may be where the phone is when the text lands."""
    stated = (country or "US").strip().upper()
    facts = _phone_facts(phone_e164) if phone_e164 else None
    dialled = facts.region if facts else None
    return list(dict.fromkeys(c for c in (stated, dialled) if c and c != "ZZ" and c != "001"))


def applicable_state_rules(
    *, region: str | None, country: str = "US", phone_e164: str | None, rules: QuietHoursRules
) -> list[LegalRule]:
    """State rules for the address state and for the phone's area code, when they have one.

    The area-code rule applies even when the address names another state: Florida, Oklahoma
    and Connecticut presume that a number with one of their area codes reaches a resident, and
    a stale address must not switch that protection off.
    """
    states = [_address_state(region, country), rules.area_code_states.get(_area_code(phone_e164))]
    unique = dict.fromkeys(state for state in states if state in rules.state_rules)
    return [rules.state_rules[state] for state in unique]


def _address_state(region: str | None, country: str) -> str | None:
    key = _region_key(region, country)
    return key[1] if key and key[0] == "US" else None
