"""The registry of segment condition kinds, and the helpers their validators share.

A condition kind is named by the key that marks it in a rule (`field`, `event`, ...).
Each kind brings two functions:

- `validate_fn(rule, path, context) -> list[str]`: human-readable errors, each starting
  with its path (`all[2].value: ...`); an empty list when the rule is sound.
- `compile_fn(rule, context) -> Q`: the rule as a filter on Contact. It is only called on
  a rule that validated, and may only use Contact's own columns, single-valued joins
  (company) or Exists/OuterRef("pk") subqueries, so that nesting and negation stay exact.

Apps above contacts register their kinds from `AppConfig.ready()` (consent registers
`consent`), so contacts never imports them.
"""

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.contacts.models import Segment

GROUP_KEYS = ("all", "any", "not")
MAX_DEPTH = 12
MAX_DAYS = 36_500


@dataclass
class SegmentContext:
    """What one validation or compilation shares: one clock, and the segments in play."""

    now: datetime = field(default_factory=timezone.now)
    # Ids of the segments being expanded, outermost first: a repeat is a cycle.
    trail: tuple[int, ...] = ()
    depth: int = 0
    # Shared by every copy, so each referenced segment is read once per compilation.
    segments: dict[int, Segment | None] = field(default_factory=dict)

    def deeper(self, *, segment_id: int | None = None) -> "SegmentContext":
        trail = (*self.trail, segment_id) if segment_id is not None else self.trail
        return replace(self, depth=self.depth + 1, trail=trail)

    def segment(self, segment_id: int) -> Segment | None:
        if segment_id not in self.segments:
            self.segments[segment_id] = Segment.objects.filter(pk=segment_id).first()
        return self.segments[segment_id]


ConditionValidate = Callable[[dict, str, SegmentContext], list[str]]
ConditionCompile = Callable[[dict, SegmentContext], Q]


@dataclass(frozen=True)
class Condition:
    kind: str
    compile: ConditionCompile
    validate: ConditionValidate


_conditions: dict[str, Condition] = {}


def segment_condition_register(
    kind: str, compile_fn: ConditionCompile, validate_fn: ConditionValidate
) -> None:
    """Registers a condition kind; registering the same kind again replaces it."""
    if kind in GROUP_KEYS:
        raise ValueError(f"{kind!r} names a group; choose another condition kind.")
    _conditions[kind] = Condition(kind, compile_fn, validate_fn)


def segment_conditions() -> dict[str, Condition]:
    return dict(_conditions)


# Helpers that keep every kind's messages in the same shape.


def rule_path(path: str, key: str | int) -> str:
    """`rule_path("all", 2)` is `all[2]`; `rule_path("all[2]", "value")` is `all[2].value`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def rule_error(path: str, message: str) -> str:
    return f"{path or 'rules'}: {message}"


def quoted(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def choose_from(values: Iterable[str]) -> str:
    return "choose from " + ", ".join(values)


def rule_keys_check(
    rule: dict, path: str, *, required: Iterable[str], optional: Iterable[str] = ()
) -> list[str]:
    """Errors for missing and unknown keys; unknown keys are usually typos."""
    required, optional = list(required), list(optional)
    errors = [rule_error(path, f"missing {quoted(key)}") for key in required if key not in rule]
    allowed = required + optional
    for key in rule:
        if key not in allowed:
            message = f"unknown key {quoted(key)}; this rule takes {', '.join(allowed)}"
            errors.append(rule_error(path, message))
    return errors


def choices_check(values: Any, path: str, *, allowed: list[str], noun: str) -> list[str]:
    """Errors for a non-empty list of choices, e.g. consent statuses or opportunity stages."""
    if not isinstance(values, list) or not values:
        return [rule_error(path, f"give a non-empty list, e.g. {quoted(allowed[:2])}")]
    return [
        choice_error(path, value, allowed=allowed, noun=noun)
        for value in values
        if value not in allowed
    ]


def choice_error(path: str, value: Any, *, allowed: list[str], noun: str) -> str:
    article = "an" if noun[0] in "aeiou" else "a"
    return rule_error(path, f"{quoted(value)} is not {article} {noun}; {choose_from(allowed)}")


def is_number(value: Any) -> bool:
    """Python's json reads NaN and Infinity; SQL cannot compare with them sensibly."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def days_check(value: Any, path: str, *, name: str) -> list[str]:
    if is_whole_number(value) and 1 <= value <= MAX_DAYS:
        return []
    return [rule_error(path, f"{name} needs a whole number of days from 1 to {MAX_DAYS}")]


def flag_check(rule: dict, key: str, path: str) -> list[str]:
    if key in rule and not isinstance(rule[key], bool):
        return [rule_error(rule_path(path, key), "give true or false")]
    return []
