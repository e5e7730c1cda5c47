"""Field conditions: `{"field": "lifecycle_stage", "op": "in", "value": ["mql", "sql"]}`.

Each field has a type, and the type decides its operators and what a value must be:

- choice: eq, in, not_in (buying_role also is_empty, is_not_empty; lifecycle_stage also
  at_or_after, before on its ordered scale). Values must be one of the field's choices
  (for lifecycle_stage: the customer's stages, apps/contacts/stages.py).
- lifecycle_meaning: eq, in, not_in over what the customer's stages mean (prospect, mql, sql,
  opportunity, customer, churned), whatever the stages are called.
- text: eq, in, not_in, is_empty, is_not_empty. Matched ignoring case.
- number: gte, lte (employee_count also is_empty, is_not_empty).
- days: within_days, older_than_days, counted back from now.
- reference: eq, in, not_in (ids), is_empty, is_not_empty.

"not_in" is "not (in)": a contact with no company is not_in any company industry.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q

from apps.contacts.errors import ContactsError
from apps.contacts.models import BuyingRole, ContactKind, IntentBand, LifecycleMeaning
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.segments.registry import (
    SegmentContext,
    choice_error,
    choose_from,
    days_check,
    is_number,
    is_whole_number,
    quoted,
    rule_error,
    rule_keys_check,
    rule_path,
)
from apps.contacts.stages import lifecycle_at_or_after, lifecycle_keys, lifecycle_keys_meaning

LIST_OPS = ("in", "not_in")
EMPTY_OPS = ("is_empty", "is_not_empty")
CHOICE_OPS = ("eq", *LIST_OPS)
TEXT_OPS = ("eq", *LIST_OPS, *EMPTY_OPS)
REFERENCE_OPS = ("eq", *LIST_OPS, *EMPTY_OPS)
NUMBER_OPS = ("gte", "lte")
DAYS_OPS = ("within_days", "older_than_days")


@dataclass(frozen=True)
class FieldSpec:
    lookup: str
    type: str
    ops: tuple[str, ...]
    choices: tuple[str, ...] | Callable[[], list[str]] = ()
    noun: str = ""

    def allowed(self) -> list[str]:
        """The values a choice may take; the customer's stages are read when asked."""
        return self.choices() if callable(self.choices) else list(self.choices)


def _choice(lookup, choices, noun, extra_ops=()) -> FieldSpec:
    return FieldSpec(lookup, "choice", (*CHOICE_OPS, *extra_ops), tuple(choices.values), noun)


FIELDS: dict[str, FieldSpec] = {
    "lifecycle_stage": FieldSpec(
        "lifecycle_stage",
        "choice",
        (*CHOICE_OPS, "at_or_after", "before"),
        lifecycle_keys,
        "lifecycle stage",
    ),
    "lifecycle_meaning": _choice("lifecycle_stage", LifecycleMeaning, "lifecycle meaning"),
    "kind": _choice("kind", ContactKind, "contact kind"),
    "buying_role": _choice("buying_role", BuyingRole, "buying role", EMPTY_OPS),
    "intent_band": _choice("intent_band", IntentBand, "intent band"),
    "intent_score": FieldSpec("intent_score", "number", NUMBER_OPS),
    "owner": FieldSpec("owner", "reference", REFERENCE_OPS, noun="user id"),
    "region": FieldSpec("region", "text", TEXT_OPS),
    "country": FieldSpec("country", "text", TEXT_OPS),
    "source": FieldSpec("source", "text", TEXT_OPS),
    "created_at": FieldSpec("created_at", "days", DAYS_OPS),
    "company": FieldSpec("company", "reference", REFERENCE_OPS, noun="company id"),
    "company.industry": FieldSpec("company__industry", "text", TEXT_OPS),
    "company.region": FieldSpec("company__region", "text", TEXT_OPS),
    "company.country": FieldSpec("company__country", "text", TEXT_OPS),
    "company.domain": FieldSpec("company__domain", "text", TEXT_OPS),
    "company.employee_count": FieldSpec(
        "company__employee_count", "number", (*NUMBER_OPS, *EMPTY_OPS)
    ),
}


def field_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    op = rule.get("op")
    needs_value = op not in EMPTY_OPS
    errors = rule_keys_check(
        rule, path, required=["field", "op", "value"] if needs_value else ["field", "op"]
    )
    spec = FIELDS.get(rule["field"]) if isinstance(rule["field"], str) else None
    if spec is None:
        message = f"{quoted(rule['field'])} is not a field; {choose_from(FIELDS)}"
        return [*errors, rule_error(rule_path(path, "field"), message)]
    if "op" not in rule:
        return errors
    if op not in spec.ops:
        message = f"{quoted(op)} does not apply to {rule['field']}; {choose_from(spec.ops)}"
        return [*errors, rule_error(rule_path(path, "op"), message)]
    if errors or not needs_value:
        return errors
    return _value_check(rule["value"], rule_path(path, "value"), spec, rule)


def _value_check(value: Any, path: str, spec: FieldSpec, rule: dict) -> list[str]:
    op, name = rule["op"], rule["field"]
    if spec.type == "days":
        return days_check(value, path, name=op)
    if spec.type == "number":
        if is_number(value):
            return []
        return [rule_error(path, f"{name} needs a number, e.g. 50")]
    if op in LIST_OPS:
        if not isinstance(value, list) or not value:
            return [rule_error(path, f"{quoted(op)} needs a non-empty list of values")]
        return [error for item in value for error in _item_check(item, path, spec, name)]
    if isinstance(value, list):
        return [rule_error(path, f'{quoted(op)} needs one value; use "in" for a list')]
    return _item_check(value, path, spec, name)


def _item_check(value: Any, path: str, spec: FieldSpec, name: str) -> list[str]:
    if spec.type == "choice" and value not in (allowed := spec.allowed()):
        return [choice_error(path, value, allowed=allowed, noun=spec.noun)]
    if spec.type == "reference" and not (is_whole_number(value) and value > 0):
        return [rule_error(path, f"{quoted(value)} is not a {spec.noun}; give a whole number")]
    if spec.type == "text" and not (isinstance(value, str) and value.strip()):
        message = f'{name} needs some text; use "op": "is_empty" to match an empty {name}'
        return [rule_error(path, message)]
    return []


def field_compile(rule: dict, context: SegmentContext) -> Q:
    spec, op, value = FIELDS[rule["field"]], rule["op"], rule.get("value")
    lookup = spec.lookup
    if op == "not_in":
        return ~field_compile({**rule, "op": "in"}, context)
    if op == "is_not_empty":
        return ~field_compile({**rule, "op": "is_empty"}, context)
    if op == "is_empty":
        empty = Q(**{f"{lookup}__isnull": True})
        return empty | Q(**{lookup: ""}) if spec.type in ("text", "choice") else empty
    if rule["field"] == "lifecycle_meaning":
        meanings = value if op == "in" else [value]
        return Q(**{f"{lookup}__in": lifecycle_keys_meaning(*meanings)})
    if spec.type == "text":
        values = _spellings(rule["field"], value if op == "in" else [value])
        return reduce(or_, [Q(**{f"{lookup}__iexact": item}) for item in values])
    if op == "in":
        return Q(**{f"{lookup}__in": value})
    if op in ("at_or_after", "before"):
        later = Q(**{f"{lookup}__in": lifecycle_at_or_after(value)})
        return later if op == "at_or_after" else ~later
    if op in DAYS_OPS:
        cutoff = context.now - timedelta(days=value)
        return Q(**{f"{lookup}__gte" if op == "within_days" else f"{lookup}__lt": cutoff})
    return Q(**{lookup if op == "eq" else f"{lookup}__{op}": value})


# Contacts store a place as its code (regions.py); a rule may name it as people write it.
_PLACE_CODES = {
    "region": lambda text: region_normalize(text, None),
    "company.region": lambda text: region_normalize(text, None),
    "country": country_normalize,
    "company.country": country_normalize,
}


def _spellings(name: str, values: list[str]) -> list[str]:
    """The values, plus the code of each that names a known place: "region eq Florida"
    matches FL (and a row stored before regions were normalised, as "Florida")."""
    to_code = _PLACE_CODES.get(name)
    spellings = list(values)
    for item in values if to_code else ():
        try:
            spellings.append(to_code(item))
        except ContactsError:
            continue  # not a place Cue knows: matched as written
    return list(dict.fromkeys(spellings))
