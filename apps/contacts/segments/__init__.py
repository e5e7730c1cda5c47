"""Segments: a JSON rule language over contacts, compiled to one SQL query.

Rules are a tree. A group is one of

    {"all": [rule, ...]}    every rule holds ("all": [] is every contact)
    {"any": [rule, ...]}    at least one rule holds (give at least one)
    {"not": rule}           the rule does not hold

and a rule is a group or one condition:

    {"field": "lifecycle_stage", "op": "at_or_after", "value": "mql"}
    {"event": "pricing_view", "occurred": true, "within_days": 14,
     "properties": {"plan": "pro"}, "min_count": 2}
    {"opportunity": {"pipeline": "sales", "stage": ["demo", "proposal"]}, "exists": true}
    {"opportunity": {"meaning": ["won"]}}
    {"consent": {"channel": "sms", "purpose": "marketing", "status": ["opted_in"]}}
    {"segment": 12}
    {"attribute": "plan", "op": "in", "value": ["pro", "team"]}
    {"company_attribute": "tier", "op": "eq", "value": "gold"}
    {"opportunity_attribute": "tier", "op": "eq", "value": "gold"}

Fields and their operators are listed in `segments.fields`, custom attributes' (the
contact's, its company's and its opportunities') in `segments.attributes`; the `consent`
condition is registered by the consent app. Times ("within_days") count back from when
the query is built. `segment_rules_validate`
explains every mistake with its path, e.g.
`all[2].value: "vip" is not a lifecycle stage; choose from subscriber, lead, ...`.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact
from apps.contacts.segments import attributes, behaviour, fields, references
from apps.contacts.segments.registry import (
    SegmentContext,
    choice_error,
    choices_check,
    flag_check,
    quoted,
    rule_error,
    rule_keys_check,
    rule_path,
    segment_condition_register,
    segment_conditions,
)
from apps.contacts.segments.tree import rule_compile, rule_validate

__all__ = [
    "SegmentContext",
    "SegmentPreview",
    "SegmentRulesError",
    "choice_error",
    "choices_check",
    "flag_check",
    "quoted",
    "rule_error",
    "rule_keys_check",
    "rule_path",
    "segment_condition_register",
    "segment_conditions",
    "segment_contacts",
    "segment_preview",
    "segment_rules_validate",
]

segment_condition_register("field", fields.field_compile, fields.field_validate)
segment_condition_register("event", behaviour.event_compile, behaviour.event_validate)
segment_condition_register(
    "opportunity", behaviour.opportunity_compile, behaviour.opportunity_validate
)
segment_condition_register("segment", references.reference_compile, references.reference_validate)
segment_condition_register("attribute", attributes.attribute_compile, attributes.attribute_validate)
segment_condition_register(
    "company_attribute",
    attributes.company_attribute_compile,
    attributes.company_attribute_validate,
)
segment_condition_register(
    "opportunity_attribute",
    attributes.opportunity_attribute_compile,
    attributes.opportunity_attribute_validate,
)


class SegmentRulesError(ContactsError):
    """The rules cannot be compiled; `errors` holds every problem, each with its path."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors), field="rules", code="invalid_segment")
        self.errors = errors

    def as_field_errors(self) -> dict[str, list[str]]:
        return {"rules": self.errors}


def segment_rules_validate(rules, *, segment_id: int | None = None) -> list[str]:
    """Every mistake in the rules, with its path; [] when they compile.

    Give `segment_id` when the rules belong to a saved segment, so that a segment which
    includes itself through others is caught at its own edge.
    """
    return rule_validate(rules, "", _context(segment_id))


def segment_contacts(*, rules, segment_id: int | None = None) -> QuerySet[Contact]:
    """The contacts the rules select, as one query. Raises SegmentRulesError if invalid."""
    context = _context(segment_id)
    errors = rule_validate(rules, "", context)
    if errors:
        raise SegmentRulesError(errors)
    return Contact.objects.filter(rule_compile(rules, context))


@dataclass(frozen=True)
class SegmentPreview:
    count: int
    contacts: list[Contact]


def segment_preview(*, rules, segment_id: int | None = None, limit: int = 25) -> SegmentPreview:
    """How many contacts match, and the first few of them (newest first)."""
    matching = segment_contacts(rules=rules, segment_id=segment_id)
    columns = ["first_name", "last_name", "email", "lifecycle_stage", "intent_band"]
    first = list(matching.only(*columns, "intent_score")[:limit]) if limit else []
    return SegmentPreview(count=matching.count(), contacts=first)


def _context(segment_id: int | None) -> SegmentContext:
    return SegmentContext(trail=(segment_id,) if segment_id is not None else ())
