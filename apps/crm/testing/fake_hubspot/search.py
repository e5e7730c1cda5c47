"""The fake HubSpot's CRM search: filterGroups, one sort, `after` offsets and the
10,000-result cap, as HubSpot documents them.

Records that tie on the sort property come back in descending id order: HubSpot
promises no order among ties, and an adapter that assumed id order would lose records
at a page boundary here, as it would against HubSpot.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .store import ObjectStore, StoredRecord, time_value_ms

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
}


class SearchRefused(Exception):
    """The search request breaks one of HubSpot's rules; HubSpot answers 400."""


@dataclass(frozen=True)
class SearchPage:
    total: int
    records: list[StoredRecord]
    next_after: int | None


def search_run(store: ObjectStore, request: dict[str, Any]) -> SearchPage:
    limit = _int_field(request, "limit", 10)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchRefused(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    after = _int_field(request, "after", 0)
    if after < 0:
        raise SearchRefused("after must not be negative")
    if after >= MAX_RESULTS:
        raise SearchRefused(
            f"The search API returns at most {MAX_RESULTS} results per query; "
            f"after={after} is past that. Narrow the filters instead of paging further."
        )
    groups = _filter_groups(request)
    predicate = _predicate(store, groups)
    matches = [record for record in _candidates(store, groups) if predicate(record)]
    _order(store, matches, _sort(request))
    page = matches[after : after + limit]
    more = after + limit < len(matches)
    return SearchPage(total=len(matches), records=page, next_after=after + limit if more else None)


def _int_field(request: dict[str, Any], name: str, default: int) -> int:
    value = request.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SearchRefused(f"{name} must be an integer, got {value!r}") from None


def _filter_groups(request: dict[str, Any]) -> list[list[dict]]:
    groups = request.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
        raise SearchRefused(f"at most {MAX_FILTER_GROUPS} filterGroups are allowed")
    parsed = []
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchRefused(f"each filterGroup holds 1 to {MAX_FILTERS_PER_GROUP} filters")
        for one in filters:
            if not isinstance(one, dict) or one.get("operator") not in OPERATORS:
                raise SearchRefused(f"unsupported filter {one!r}")
            if not one.get("propertyName"):
                raise SearchRefused("every filter names a propertyName")
        parsed.append(filters)
    if sum(len(filters) for filters in parsed) > MAX_FILTERS:
        raise SearchRefused(f"at most {MAX_FILTERS} filters are allowed in one search")
    return parsed


def _sort(request: dict[str, Any]) -> tuple[str, bool] | None:
    sorts = request.get("sorts") or []
    if len(sorts) > 1:
        raise SearchRefused("only one sort is allowed per search")
    if not sorts:
        return None
    sort = sorts[0]
    if isinstance(sort, str):
        return sort.lstrip("-"), sort.startswith("-")
    if not isinstance(sort, dict) or not sort.get("propertyName"):
        raise SearchRefused(f"unsupported sort {sort!r}")
    return sort["propertyName"], sort.get("direction", "ASCENDING") == "DESCENDING"


def _candidates(store: ObjectStore, groups: list[list[dict]]):
    """Use the modification-time index when every group bounds it; else scan all."""
    if not groups:
        return store.by_modified_range(None, None)
    lows, highs = [], []
    for filters in groups:
        low, high = _modified_bounds(store, filters)
        lows.append(low)
        highs.append(high)
    low = None if None in lows else min(lows)
    high = None if None in highs else max(highs)
    return store.by_modified_range(low, high)


def _modified_bounds(
    store: ObjectStore, filters: list[dict]
) -> tuple[tuple[int, int] | None, int | None]:
    """The (time, id) a group's matches start at, and the time they end at (inclusive)."""
    low = high = None
    for one in filters:
        if one["propertyName"] != store.modified_property:
            continue
        value = time_value_ms(one.get("value", ""))
        if value is None:
            continue
        if one["operator"] in ("GT", "GTE", "EQ"):
            start = (value + 1 if one["operator"] == "GT" else value, -1)
            low = start if low is None else max(low, start)
        if one["operator"] in ("LT", "LTE", "EQ"):
            end = value - 1 if one["operator"] == "LT" else value
            high = end if high is None else min(high, end)
    if low is not None and high is not None and low[0] == high:
        # One time only: an id bound narrows the start further (paging by id in a tie).
        low = max(low, (low[0], _id_floor(filters)))
    return low, high


def _id_floor(filters: list[dict]) -> int:
    floor = -1
    for one in filters:
        if one["propertyName"] == "hs_object_id" and one["operator"] in ("GT", "GTE"):
            try:
                value = int(one.get("value"))
            except (TypeError, ValueError):
                continue
            floor = max(floor, value + 1 if one["operator"] == "GT" else value)
    return floor


def _predicate(store: ObjectStore, groups: list[list[dict]]) -> Callable[[StoredRecord], bool]:
    """One function for the whole request: OR of groups, AND of filters (built once)."""
    compiled = [[_filter_test(store, one) for one in filters] for filters in groups]
    if not compiled:
        return lambda record: True
    return lambda record: any(all(test(record) for test in tests) for tests in compiled)


def _filter_test(store: ObjectStore, one: dict) -> Callable[[StoredRecord], bool]:
    name, operator = one["propertyName"], one["operator"]
    key = _comparable(store, name)
    try:
        if operator in ("IN", "NOT_IN"):
            wanted = {key(value) for value in one.get("values") or []}
        elif operator == "BETWEEN":
            wanted = (key(one.get("value")), key(one.get("highValue")))
        elif operator not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            wanted = key(one.get("value"))
    except (TypeError, ValueError):
        raise SearchRefused(f"invalid value in filter {one!r}") from None

    def test(record: StoredRecord) -> bool:
        actual = _raw_value(store, record, name)
        if operator == "HAS_PROPERTY":
            return actual not in (None, "")
        if operator == "NOT_HAS_PROPERTY":
            return actual in (None, "")
        if actual in (None, ""):
            return operator in ("NEQ", "NOT_IN")
        if operator in ("IN", "NOT_IN"):
            return (key(actual) in wanted) == (operator == "IN")
        if operator == "BETWEEN":
            return wanted[0] <= key(actual) <= wanted[1]
        return _COMPARE[operator](key(actual), wanted)

    return test


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda a, b: a == b,
    "NEQ": lambda a, b: a != b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
}


def _comparable(store: ObjectStore, name: str) -> Callable[[Any], Any]:
    """How HubSpot compares a property: times and ids as numbers, text without case."""
    if name in (store.modified_property, store.created_property, "hs_timestamp") or (
        name.startswith("hs_date_entered_")
    ):
        return lambda value: value if isinstance(value, int) else (time_value_ms(value) or 0)
    if name == "hs_object_id":
        return lambda value: int(value)

    def text_or_number(value: Any) -> Any:
        try:
            return (0, float(value))
        except (TypeError, ValueError):
            return (1, str(value).lower())

    return text_or_number


def _raw_value(store: ObjectStore, record: StoredRecord, name: str) -> Any:
    """The value to compare; the stored numbers where the property is computed (fast)."""
    if name == store.modified_property:
        return record.modified_ms
    if name == "hs_object_id":
        return record.id
    return store.value(record, name)


def _order(store: ObjectStore, records: list[StoredRecord], sort: tuple[str, bool] | None) -> None:
    if sort is None:
        return
    name, descending = sort
    if name == "hs_object_id":
        records.sort(key=lambda record: record.id, reverse=descending)
        return
    if name == store.modified_property:
        # Ties in descending id order (see the module docstring).
        records.sort(key=lambda record: (record.modified_ms, -record.id), reverse=descending)
        return
    key = _comparable(store, name)
    # Ties in descending id order first, then a stable sort on the property.
    records.sort(key=lambda record: record.id, reverse=True)
    values = {record.id: _raw_value(store, record, name) for record in records}
    missing = [record for record in records if values[record.id] in (None, "")]
    present = [record for record in records if values[record.id] not in (None, "")]
    present.sort(key=lambda record: key(values[record.id]), reverse=descending)
    records[:] = present + missing
