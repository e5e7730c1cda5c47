"""Attribute conditions: `{"attribute": "plan", "op": "eq", "value": "pro"}`.

The attribute's definition (a contact attribute) decides its operators:

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
"""

import json
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import BooleanField, Expression, F, FloatField, Q
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
from apps.contacts.models import AttributeDefinition, AttributeObject, AttributeType
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


def attribute_definition(key: Any) -> AttributeDefinition | None:
    if not isinstance(key, str):
        return None
    return AttributeDefinition.objects.filter(object_type=AttributeObject.CONTACT, key=key).first()


def attribute_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    op = rule.get("op")
    needs_value = op not in SET_OPS
    required = ["attribute", "op", "value"] if needs_value else ["attribute", "op"]
    errors = rule_keys_check(rule, path, required=required)
    definition = attribute_definition(rule["attribute"])
    if definition is None:
        known = AttributeDefinition.objects.filter(object_type=AttributeObject.CONTACT)
        keys = list(known.values_list("key", flat=True)) or ["(none defined yet)"]
        message = f"{quoted(rule['attribute'])} is not a contact attribute; {choose_from(keys)}"
        return [*errors, rule_error(rule_path(path, "attribute"), message)]
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
    key, op = definition.key, rule["op"]
    present = Q(HasKey(F("attributes"), key))
    if op in SET_OPS:
        return present if op == "is_set" else ~present
    if op == "not_in":
        # "not (in)": a contact without the attribute is not in any of the values.
        return ~(present & attribute_compile({**rule, "op": "in"}, context))
    if op == "within_last_days":
        return _since(definition, key, context, rule["value"])
    values = rule["value"] if op == "in" else [rule["value"]]
    clean = [_rule_value(definition, op, value) for value in values]
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


class _AttributeCondition(Expression):
    """A test on the contact's attribute `key`, written for each database."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, key: str):
        super().__init__()
        self.column, self.key = F("attributes"), key

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, expressions):
        (self.column,) = expressions

    def resolve_expression(self, *args, **kwargs):
        copy = self.copy()
        copy.column = self.column.resolve_expression(*args, **kwargs)
        return copy


class AttributeNumber(_AttributeCondition):
    """The value at the key as a number, or NULL when it is not a JSON number: a stray
    string left by an older definition of another type neither matches nor breaks a cast."""

    output_field = FloatField()
    conditional = False

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        number = f"jsonb_typeof({sql} -> %s) = 'number'"
        return (
            f"(CASE WHEN {number} THEN ({sql} ->> %s)::double precision END)",
            [*params, self.key, *params, self.key],
        )

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        path = f'$."{self.key}"'
        number = f"json_type({sql}, %s) IN ('integer', 'real')"
        return (
            f"(CASE WHEN {number} THEN json_extract({sql}, %s) END)",
            [*params, path, *params, path],
        )


class AttributeContains(_AttributeCondition):
    """The attribute equals `value` (or, for a list, holds the item).

    PostgreSQL: `attributes @> '{"key": value}'`, served by the GIN index. SQLite: the JSON
    type and value at the key, so that true never equals the number 1."""

    def __init__(self, key: str, value, *, item: bool = False):
        super().__init__(key)
        self.value, self.item = value, item

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        document = {self.key: [self.value] if self.item else self.value}
        return f"({sql} @> %s::jsonb)", [*params, json.dumps(document)]

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        path = f'$."{self.key}"'
        if self.item:
            inner = f"SELECT 1 FROM json_each({sql}, %s) AS item WHERE item.value = %s"
            return f"EXISTS ({inner})", [*params, path, self.value]
        if isinstance(self.value, bool):
            return f"(json_type({sql}, %s) = %s)", [*params, path, str(self.value).lower()]
        json_type = {str: "text", int: "integer", float: "real"}[type(self.value)]
        return (
            f"(json_type({sql}, %s) = %s AND json_extract({sql}, %s) = %s)",
            [*params, path, json_type, *params, path, self.value],
        )
