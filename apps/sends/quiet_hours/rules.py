"""The quiet-hours data tables, read from `apps/sends/data/` and validated once per process.

Each legal rule is a row with the window it imposes, the citation it comes from, the date it
took effect and what it covers ("texts" where the statute or case law names text messages,
"calls" where it names only calls — applied to texts anyway, conservatively — or "policy"
where no statute sets hours and Cue picks a conservative default). A row without a citation
or an effective date is refused when the tables load, so no rule enters the gate unsourced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apps.sends.quiet_hours.windows import LocalWindow, WeeklyWindows

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
RULES_FILE = "quiet_hours_rules.json"
SPLIT_AREA_CODES_FILE = "split_area_codes.json"
COUNTRY_RULES_FILE = "country_rules.json"

COVERS = ("texts", "calls", "policy")
_WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_AREA_CODE = re.compile(r"^[2-9][0-9]{2}$")


class QuietHoursDataError(ValueError):
    """A row of the quiet-hours tables is incomplete or malformed."""


@dataclass(frozen=True)
class LegalRule:
    """A jurisdiction's sending hours, with where they come from.

    ``key`` is "state:FL" or "country:CA"; ``cap`` is (max messages, window hours) when the
    same law also caps how many messages may reach one person.
    """

    key: str
    windows: WeeklyWindows
    citation: str
    effective: date
    covers: str
    cap: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return self.key

    @property
    def state(self) -> str:
        return self.key.split(":", 1)[1]


# Kept under its old name: a state's rule is a LegalRule keyed "state:XX".
StateRule = LegalRule


@dataclass(frozen=True)
class SplitAreaCode:
    """A NANP area code whose territory keeps more than one time zone."""

    code: str
    zones: tuple[str, ...]
    regions: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class QuietHoursRules:
    """Every table: state rules, area code to state, region to candidate zones, area codes
    that span zones, and per-country rules (with the countries each country row covers)."""

    state_rules: Mapping[str, LegalRule]
    area_code_states: Mapping[str, str]
    region_zones: Mapping[tuple[str, str], tuple[str, ...]]
    split_area_codes: Mapping[str, SplitAreaCode]
    country_rules: Mapping[str, LegalRule]
    country_rows: Mapping[str, str]

    def country_rule(self, country: str) -> LegalRule | None:
        row = self.country_rows.get(country.strip().upper())
        return self.country_rules.get(row) if row else None


@cache
def load_rules(data_dir: Path = DATA_DIR) -> QuietHoursRules:
    """Read and validate the data tables once per process."""
    raw = _read(data_dir / RULES_FILE)
    split = _read(data_dir / SPLIT_AREA_CODES_FILE)
    countries = _read(data_dir / COUNTRY_RULES_FILE)
    return QuietHoursRules(
        state_rules={
            state: parse_legal_rule(f"state:{state}", entry)
            for state, entry in raw["state_rules"].items()
        },
        area_code_states={
            code: state for state, codes in raw["area_codes"]["by_state"].items() for code in codes
        },
        region_zones={
            (country, region): tuple(zones)
            for country, regions in raw["region_zones"]["by_country"].items()
            for region, zones in regions.items()
        },
        split_area_codes={
            code: _parse_split(code, entry) for code, entry in split["area_codes"].items()
        },
        country_rules={
            row: parse_legal_rule(f"country:{row}", entry)
            for row, entry in countries["countries"].items()
        },
        country_rows=_country_rows(countries["countries"]),
    )


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def parse_legal_rule(key: str, entry: Mapping) -> LegalRule:
    """One row of a rules table; refuses a row that does not say where it comes from."""
    citation = str(entry.get("citation") or "").strip()
    if not citation:
        raise QuietHoursDataError(f"{key}: a rule needs its citation")
    return LegalRule(
        key=key,
        windows=_parse_windows(key, entry.get("windows") or {}),
        citation=citation,
        effective=_parse_effective(key, entry.get("effective")),
        covers=_parse_covers(key, entry.get("covers")),
        cap=_parse_cap(key, entry.get("cap")),
    )


def _parse_effective(key: str, value) -> date:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        raise QuietHoursDataError(
            f"{key}: a rule needs its effective date (YYYY-MM-DD), not {value!r}"
        ) from None


def _parse_covers(key: str, value) -> str:
    if value not in COVERS:
        raise QuietHoursDataError(f"{key}: covers must be one of {', '.join(COVERS)}")
    return value


def _parse_cap(key: str, value) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return int(value["max_messages"]), int(value["window_hours"])
    except (KeyError, TypeError, ValueError):
        raise QuietHoursDataError(f"{key}: a cap needs max_messages and window_hours") from None


def _parse_windows(key: str, windows: Mapping) -> WeeklyWindows:
    if "default" not in windows:
        raise QuietHoursDataError(f"{key}: windows need a default")
    fallback = windows["default"]
    try:
        days = tuple(_parse_window(windows.get(day, fallback)) for day in _WEEKDAY_KEYS)
    except ValueError as error:
        raise QuietHoursDataError(f"{key}: {error}") from None
    return WeeklyWindows(days=days)


def _parse_window(pair: list[str] | None) -> LocalWindow | None:
    if pair is None:
        return None
    start, end = (time.fromisoformat(value) for value in pair)
    return LocalWindow(start, end)


def _parse_split(code: str, entry: Mapping) -> SplitAreaCode:
    if not _AREA_CODE.match(code):
        raise QuietHoursDataError(f"split area code {code!r} is not a NANP area code")
    zones = tuple(entry.get("zones") or ())
    if len(zones) < 2 or not entry.get("source"):
        raise QuietHoursDataError(f"split area code {code}: needs two or more zones and a source")
    for name in zones:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise QuietHoursDataError(f"split area code {code}: unknown zone {name}") from None
    return SplitAreaCode(
        code=code, zones=zones, regions=tuple(entry["regions"]), note=entry["source"]
    )


def _country_rows(rows: Mapping[str, Mapping]) -> dict[str, str]:
    """Country code -> the row that governs it: a country's own row, else a row that lists it
    among the countries it covers (the US row covers its territories, the EU row its members)."""
    covered = {
        country: row for row, entry in rows.items() for country in entry.get("applies_to", ())
    }
    return {**covered, **{row: row for row in rows if len(row) == 2}}
