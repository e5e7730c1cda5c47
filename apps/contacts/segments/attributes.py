"""Attribute conditions on the contact, its company and its opportunities:

    {"attribute": "plan", "op": "eq", "value": "pro"}                the contact's own
    {"company_attribute": "tier", "op": "eq", "value": "gold"}       its company's
    {"opportunity_attribute": "tier", "op": "in", "value": ["gold"]} one of its deals'

Each names an attribute defined for that object type, whose definition decides the
operators (the same for all three):

- text: eq, in, not_in (ignoring case), contains, starts_with
- choice: eq, in, not_in
- number: eq, gt, gte, lt, lte
- boolean: eq
- date, datetime: eq (date only), before, after, within_last_days (from then until now)
- list: contains (one item)
- every type: is_set, is_not_set

A value is checked and put in its stored form by the same function that checks writes,
so "Pro" matches the option "pro" and 2026-03-08T01:30-05:00 compares as UTC. Stored
dates and datetimes are fixed-width ISO text, so they compare as text on both databases.
Equality on choice, boolean, number and list items is JSON containment on PostgreSQL
(`attributes @> {...}`), which the GIN index on contacts.attributes serves.

A company or opportunity condition is an EXISTS subquery (the company by its key, the
opportunities by their contact), so that a contact is one row however many deals it has
and "not" stays exact. Its positive operators ask "does the company / any opportunity
match"; is_not_set and not_in are their negation: a contact with no company matches
is_not_set and not_in on any company attribute, and `opportunity_attribute ... is_not_set`
means that none of its opportunities has the attribute.
"""

from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import HasKey, KeyTextTransform, KeyTransform
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
)

from apps.contacts.attributes import (
    AttributesError,
    attribute_definitions,
    attribute_value_clean,
    attributes_validate,
)
from apps.contacts.models import (
    AttributeDefinition,
    AttributeObject,
    AttributeType,
    Company,
    Opportunity,
)
from apps.contacts.segments.attribute_sql import AttributeContains, AttributeNumber
from apps.contacts.segments.registry import (
    SegmentContext,
    choose_from,
    days_check,
    quoted,
    rule_error,
    rule_keys_check,
    rule_path,
)

SET_OPS = ("is_set", "is_not_set")
LIST_OPS = ("in", "not_in")
TIME_OPS = ("before", "after", "within_last_days")
OPS = {
    AttributeType.TEXT: ("eq", *LIST_OPS, "contains", "starts_with", *SET_OPS),
    AttributeType.CHOICE: ("eq", *LIST_OPS, *SET_OPS),
    AttributeType.NUMBER: ("eq", "gt", "gte", "lt", "lte", *SET_OPS),
    AttributeType.BOOLEAN: ("eq", *SET_OPS),
    AttributeType.DATE: ("eq", *TIME_OPS, *SET_OPS),
    AttributeType.DATETIME: (*TIME_OPS, *SET_OPS),
    AttributeType.LIST: ("contains", *SET_OPS),
}
CONTAINED = (AttributeType.CHOICE, AttributeType.BOOLEAN, AttributeType.NUMBER)


# The rule key that names each object type's attribute.
RULE_KEYS = {
    AttributeObject.CONTACT: "attribute",
    AttributeObject.COMPANY: "company_attribute",
    AttributeObject.OPPORTUNITY: "opportunity_attribute",
}


def attribute_definition(
    key: Any, object_type: str = AttributeObject.CONTACT
) -> AttributeDefinition | None:
    if not isinstance(key, str):
        return None
    return AttributeDefinition.objects.filter(object_type=object_type, key=key).first()


def attribute_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    return _validate(rule, path, AttributeObject.CONTACT)


def company_attribute_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    return _validate(rule, path, AttributeObject.COMPANY)


def opportunity_attribute_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    return _validate(rule, path, AttributeObject.OPPORTUNITY)


def _validate(rule: dict, path: str, object_type: str) -> list[str]:
    name = RULE_KEYS[object_type]
    op = rule.get("op")
    needs_value = op not in SET_OPS
    required = [name, "op", "value"] if needs_value else [name, "op"]
    errors = rule_keys_check(rule, path, required=required)
    definition = attribute_definition(rule[name], object_type)
    if definition is None:
        known = AttributeDefinition.objects.filter(object_type=object_type)
        keys = list(known.values_list("key", flat=True)) or ["(none defined yet)"]
        noun = f"{_article(object_type)} {object_type} attribute"
        message = f"{quoted(rule[name])} is not {noun}; {choose_from(keys)}"
        return [*errors, rule_error(rule_path(path, name), message)]
    if "op" not in rule:
        return errors
    ops = OPS[definition.type]
    if op not in ops:
        message = (
            f"{quoted(op)} does not apply to a {definition.type} attribute; {choose_from(ops)}"
        )
        return [*errors, rule_error(rule_path(path, "op"), message)]
    if errors or not needs_value:
        return errors
    return _value_check(definition, op, rule["value"], rule_path(path, "value"))


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def _value_check(definition: AttributeDefinition, op: str, value: Any, path: str) -> list[str]:
    if op == "within_last_days":
        return days_check(value, path, name=op)
    if op in LIST_OPS:
        if not isinstance(value, list) or not value:
            return [rule_error(path, f"{quoted(op)} needs a non-empty list of values")]
        return [error for item in value for error in _one_value_check(definition, op, item, path)]
    return _one_value_check(definition, op, value, path)


def _one_value_check(definition, op, value, path) -> list[str]:
    try:
        clean = _rule_value(definition, op, value)
    except ValueError as error:
        return [rule_error(path, str(error))]
    if isinstance(clean, str) and not clean:
        return [rule_error(path, 'give some text; use "op": "is_not_set" for no value')]
    return []


def _rule_value(definition: AttributeDefinition, op: str, value: Any):
    """The value as stored: a list's `contains` names one item, which is text."""
    if definition.type != AttributeType.LIST:
        return attribute_value_clean(definition, value)
    if not isinstance(value, str):
        raise ValueError("Give one item as text.")
    items = attribute_value_clean(definition, [value])
    return items[0] if items else ""


def attribute_compile(rule: dict, context: SegmentContext) -> Q:
    definition = attribute_definition(rule["attribute"])
    return _condition(definition, rule["op"], rule.get("value"), context)


def company_attribute_compile(rule: dict, context: SegmentContext) -> Q:
    definition = attribute_definition(rule["company_attribute"], AttributeObject.COMPANY)
    return _related(Company.objects.filter(pk=OuterRef("company_id")), definition, rule, context)


def opportunity_attribute_compile(rule: dict, context: SegmentContext) -> Q:
    definition = attribute_definition(rule["opportunity_attribute"], AttributeObject.OPPORTUNITY)
    opportunities = Opportunity.objects.filter(contact=OuterRef("pk"))
    return _related(opportunities, definition, rule, context)


NEGATIVE_OPS = {"is_not_set": "is_set", "not_in": "in"}


def _related(rows, definition: AttributeDefinition, rule: dict, context: SegmentContext) -> Q:
    """EXISTS a related row matching the positive operator; a negative one is its NOT."""
    op = rule["op"]
    positive = _condition(definition, NEGATIVE_OPS.get(op, op), rule.get("value"), context)
    exists = Q(Exists(rows.filter(positive)))
    return ~exists if op in NEGATIVE_OPS else exists


def _condition(definition: AttributeDefinition, op: str, value, context: SegmentContext) -> Q:
    """The condition on the `attributes` column of the rows filtered (contacts, or a
    subquery's companies or opportunities)."""
    key = definition.key
    present = Q(HasKey(F("attributes"), key))
    if op in SET_OPS:
        return present if op == "is_set" else ~present
    if op == "not_in":
        # "not (in)": a row without the attribute is not in any of the values.
        return ~(present & _condition(definition, "in", value, context))
    if op == "within_last_days":
        return _since(definition, key, context, value)
    values = value if op == "in" else [value]
    clean = [_rule_value(definition, op, item) for item in values]
    return present & reduce(or_, [_compare(definition, key, op, value) for value in clean])


def attributes_equal(*, values: dict[str, str], object_type: str = AttributeObject.CONTACT) -> Q:
    """A filter: each attribute equals its value, given as text (a query string's) and read
    by the attribute's type ("10" is the number 10, "yes" true; text ignores case; a list
    holds each of the items given, "a; b"). One query for the definitions, none per key.
    Raises AttributesError naming every unknown key and bad value."""
    definitions = attribute_definitions(object_type=object_type)
    no_value = ['Give a value; "is not set" is a segment rule.']
    errors = {key: no_value for key, value in values.items() if not value.strip()}
    try:
        clean = attributes_validate(
            object_type=object_type,
            values=values,
            partial=True,
            from_text=True,
            definitions=definitions,
        )
    except AttributesError as error:
        errors = {**errors, **error.errors}  # an unknown key says so, given a value or not
    else:  # text that was nothing but unstorable characters
        errors |= {key: no_value for key, value in clean.items() if value is None}
    if errors:
        raise AttributesError(errors)
    conditions = Q()
    for key, value in clean.items():
        definition = definitions[key]
        present = Q(HasKey(F("attributes"), key))
        items = value if definition.type == AttributeType.LIST else [value]
        op = "contains" if definition.type == AttributeType.LIST else "eq"
        for item in items:
            conditions &= present & _compare(definition, key, op, item)
    return conditions


def _compare(definition: AttributeDefinition, key: str, op: str, value) -> Q:
    if definition.type in CONTAINED and op in ("eq", "in"):
        return Q(AttributeContains(key, value))
    if definition.type == AttributeType.LIST:
        return Q(AttributeContains(key, value, item=True))
    text = KeyTextTransform(key, "attributes")
    if definition.type == AttributeType.TEXT:
        lookup = {"contains": IContains, "starts_with": IStartsWith}.get(op)
        if lookup:
            return Q(lookup(text, value))
        exact = KeyTransform(key, "attributes")
        return Q(exact.get_lookup("iexact")(exact, value))
    if definition.type == AttributeType.NUMBER:
        lookup = {"gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan}.get(op)
        return Q((lookup or LessThanOrEqual)(AttributeNumber(key), value))
    comparison = {"before": LessThan, "after": GreaterThan}.get(op)
    return Q(comparison(text, value)) if comparison else Q(Exact(text, value))


def _since(definition: AttributeDefinition, key: str, context: SegmentContext, days: int) -> Q:
    """From `days` ago until now: a renewal date next month is not "within the last"."""
    start, end = context.now - timedelta(days=days), context.now
    if definition.type == AttributeType.DATE:
        start, end = start.date().isoformat(), end.date().isoformat()
    else:
        start = attribute_value_clean(definition, start.isoformat())
        end = attribute_value_clean(definition, end.isoformat())
    text = KeyTextTransform(key, "attributes")
    present = Q(HasKey(F("attributes"), key))
    return present & Q(GreaterThanOrEqual(text, start)) & Q(LessThanOrEqual(text, end))
