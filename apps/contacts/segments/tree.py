"""Walks a rule tree: groups (all / any / not) here, conditions through the registry."""

from functools import reduce
from operator import and_, or_

from django.db.models import Q

from apps.contacts.segments.registry import (
    GROUP_KEYS,
    MAX_DEPTH,
    SegmentContext,
    quoted,
    rule_error,
    rule_path,
    segment_conditions,
)


def rule_validate(rule, path: str, context: SegmentContext) -> list[str]:
    """Every error in the rule and below it, each with its path."""
    if context.depth > MAX_DEPTH:
        return [rule_error(path, f"rules nest more than {MAX_DEPTH} levels deep")]
    if not isinstance(rule, dict) or not rule:
        return [rule_error(path, _not_a_rule())]
    if any(key in rule for key in GROUP_KEYS):
        return _group_validate(rule, path, context)
    conditions = segment_conditions()
    kinds = [key for key in rule if key in conditions]
    if not kinds:
        return [rule_error(path, _not_a_rule())]
    if len(kinds) > 1:
        found = ", ".join(quoted(kind) for kind in kinds)
        return [rule_error(path, f"a rule has one condition, but this one has {found}")]
    return conditions[kinds[0]].validate(rule, path, context)


def rule_compile(rule: dict, context: SegmentContext) -> Q:
    """The validated rule as one filter on Contact."""
    inner = context.deeper()
    if "all" in rule:
        # An empty "all" is every contact; pk__isnull=False keeps "not" of it exact.
        parts = [rule_compile(child, inner) for child in rule["all"]]
        return reduce(and_, parts) if parts else Q(pk__isnull=False)
    if "any" in rule:
        return reduce(or_, [rule_compile(child, inner) for child in rule["any"]])
    if "not" in rule:
        return ~rule_compile(rule["not"], inner)
    conditions = segment_conditions()
    kind = next(key for key in rule if key in conditions)
    return conditions[kind].compile(rule, context)


def _group_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    if len(rule) > 1:
        found = ", ".join(quoted(key) for key in rule)
        return [rule_error(path, f"a group has exactly one of all, any, not; found {found}")]
    key, children = next(iter(rule.items()))
    inner, at = context.deeper(), rule_path(path, key)
    if key == "not":
        return rule_validate(children, at, inner)
    if not isinstance(children, list):
        return [rule_error(at, f'give a list of rules, e.g. {{"{key}": [...]}}')]
    if key == "any" and not children:
        return [rule_error(at, "give at least one rule")]
    return [
        error
        for index, child in enumerate(children)
        for error in rule_validate(child, rule_path(at, index), inner)
    ]


def _not_a_rule() -> str:
    kinds = ", ".join(segment_conditions())
    return (
        'not a rule; write a group ({"all": [...]}, {"any": [...]} or {"not": ...}) '
        f"or a condition with one of {kinds}"
    )
