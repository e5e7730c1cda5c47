"""Membership of another segment: `{"segment": 12}`.

The other segment's rules are compiled in place, so the whole tree stays one query.
Segments that include each other in a loop are refused, however long the loop.
"""

from django.db.models import Q

from apps.contacts.models import Segment
from apps.contacts.segments.registry import (
    SegmentContext,
    is_whole_number,
    quoted,
    rule_error,
    rule_keys_check,
    rule_path,
)
from apps.contacts.segments.tree import rule_compile, rule_validate


def reference_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    errors = rule_keys_check(rule, path, required=["segment"])
    at, segment_id = rule_path(path, "segment"), rule["segment"]
    if not (is_whole_number(segment_id) and segment_id > 0):
        return [*errors, rule_error(at, f"{quoted(segment_id)} is not a segment id")]
    if segment_id in context.trail:
        loop = [*context.trail[context.trail.index(segment_id) :], segment_id]
        names = " → ".join(_name(context, each) for each in loop)
        return [*errors, rule_error(at, f"segments cannot include each other in a loop: {names}")]
    segment = context.segment(segment_id)
    if segment is None:
        return [*errors, rule_error(at, f"there is no segment {segment_id}")]
    inner = rule_validate(segment.rules, "", context.deeper(segment_id=segment_id))
    if inner:
        message = f"segment {quoted(segment.name)} has invalid rules: {'; '.join(inner)}"
        return [*errors, rule_error(at, message)]
    return errors


def reference_compile(rule: dict, context: SegmentContext) -> Q:
    segment = context.segment(rule["segment"])
    return rule_compile(segment.rules, context.deeper(segment_id=segment.pk))


def _name(context: SegmentContext, segment_id: int) -> str:
    segment = context.segment(segment_id)
    return quoted(segment.name) if segment else f"segment {segment_id}"


def segment_referrers(segment_id: int) -> list[Segment]:
    """The segments whose rules include this one directly. Segments are few: read them all."""
    segments = Segment.objects.exclude(pk=segment_id).only("name", "rules").order_by("name")
    return [segment for segment in segments if segment_id in _referenced_ids(segment.rules)]


def _referenced_ids(rule) -> set[int]:
    """Walks groups only, so a "segment" key inside event properties is not mistaken."""
    if not isinstance(rule, dict):
        return set()
    children = rule.get("all") or rule.get("any") or [rule.get("not")]
    found = {rule["segment"]} if isinstance(rule.get("segment"), int) else set()
    if isinstance(children, list):
        found |= {each for child in children for each in _referenced_ids(child)}
    return found
