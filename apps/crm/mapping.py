"""How a CRM record's fields become Cue's: the field mappings (data, edited in the admin)
read into one plan per object type, and the plan applied to one record.

A value Cue cannot hold (an email that is not one, text longer than the field, a number in
a date attribute) is never stored half-right: the record is taken without that field and
the problem is reported with the record (RecordError), so the rest of it is not lost.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from apps.contacts.attributes import attribute_definitions, attribute_value_clean
from apps.contacts.identity import InvalidPhone, phone_e164
from apps.contacts.models import AttributeDefinition, AttributeObject
from apps.core.emails import email_address_valid
from apps.crm.models import FieldMapping, ObjectType

ATTRIBUTE_PREFIX = "attr."
OWNER = "owner"
LIFECYCLE = "lifecycle_stage"
OPT_OUT = "consent.sms_opt_out"
OPT_IN = "consent.sms_opt_in"
EVIDENCE = "consent.evidence"
CONSENT_ROLES = (OPT_OUT, OPT_IN, EVIDENCE)

# Cue's built-in fields a CRM field may fill, per object type: (kind, max length).
_PERSON = {
    "first_name": ("text", 100),
    "last_name": ("text", 100),
    "email": ("email", 254),
    "phone": ("phone", None),
    "time_zone": ("text", 64),
    "region": ("text", 64),
    "country": ("text", 64),
}
BUILT_IN = {
    ObjectType.CONTACT: _PERSON,
    ObjectType.LEAD: _PERSON,
    ObjectType.COMPANY: {
        "name": ("text", 200),
        "domain": ("text", 200),
        "industry": ("text", 100),
        "employee_count": ("integer", None),
        "region": ("text", 64),
        "country": ("text", 64),
    },
    ObjectType.DEAL: {"name": ("text", 200), "amount": ("decimal", None)},
}
# The roles a mapping may give a field besides built-in fields and attributes.
ROLES = {
    ObjectType.CONTACT: (OWNER, LIFECYCLE, *CONSENT_ROLES),
    ObjectType.LEAD: (OWNER, LIFECYCLE, *CONSENT_ROLES),
    ObjectType.COMPANY: (),
    ObjectType.DEAL: (),
}
ATTRIBUTE_OBJECT = {
    ObjectType.CONTACT: AttributeObject.CONTACT,
    ObjectType.LEAD: AttributeObject.CONTACT,
    ObjectType.COMPANY: AttributeObject.COMPANY,
    ObjectType.DEAL: AttributeObject.OPPORTUNITY,
}
# Which CRM types a Cue kind can hold (the adapters report FieldInfo.type in Cue's words).
_HOLDS = {
    "text": {"text", "choice", "number", "date", "datetime", "boolean"},
    "email": {"text"},
    "phone": {"text"},
    "integer": {"number"},
    "decimal": {"number"},
    "number": {"number"},
    "boolean": {"boolean"},
    "date": {"date", "datetime"},
    "datetime": {"datetime", "date"},
    "choice": {"choice", "text"},
    "list": {"list", "choice", "text"},
    OWNER: {"text", "owner"},
    LIFECYCLE: {"choice", "text"},
    OPT_OUT: {"boolean"},
    OPT_IN: {"boolean"},
    EVIDENCE: {"text", "datetime", "date", "choice"},
}


@dataclass
class Mapped:
    """What one record's mapped fields say, and what could not be taken."""

    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)  # owner id, lifecycle value, consent
    evidence: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """The mappings of one object type, read once per sync run."""

    object_type: str
    rules: tuple[tuple[str, str], ...]  # (crm field, cue field)
    definitions: dict[str, AttributeDefinition]

    @property
    def crm_fields(self) -> list[str]:
        return sorted({crm for crm, _ in self.rules})

    def apply(self, properties: dict[str, Any]) -> Mapped:
        mapped = Mapped()
        for crm_field, cue_field, take in self._takers:
            if crm_field in properties:
                try:
                    take(mapped, properties[crm_field])
                except ValueError as error:
                    mapped.problems.append(f"{crm_field} → {cue_field}: {error}")
        return mapped

    @cached_property
    def _takers(self) -> tuple[tuple[str, str, Callable[[Mapped, Any], None]], ...]:
        """Each rule's way of taking a value, worked out once per run, not per record."""
        return tuple((crm, cue, self._taker(crm, cue)) for crm, cue in self.rules)

    def _taker(self, crm_field: str, cue_field: str) -> Callable[[Mapped, Any], None]:
        if cue_field.startswith(ATTRIBUTE_PREFIX):
            key = cue_field.removeprefix(ATTRIBUTE_PREFIX)

            def attribute(mapped: Mapped, value: Any) -> None:
                mapped.attributes[key] = self._attribute(key, value)

            return attribute
        if cue_field == EVIDENCE:

            def evidence(mapped: Mapped, value: Any) -> None:
                if _present(value):
                    mapped.evidence[crm_field] = str(value)[:200]

            return evidence
        if cue_field in (OPT_OUT, OPT_IN):

            def consent(mapped: Mapped, value: Any) -> None:
                mapped.roles[cue_field] = boolean_read(value)

            return consent
        if cue_field in (OWNER, LIFECYCLE):

            def role(mapped: Mapped, value: Any) -> None:
                mapped.roles[cue_field] = str(value).strip() if _present(value) else None

            return role

        def built_in(mapped: Mapped, value: Any) -> None:
            kind, max_length = BUILT_IN[self.object_type][cue_field]
            mapped.fields[cue_field] = value_read(kind, value, max_length)

        return built_in

    def _attribute(self, key: str, value: Any) -> Any:
        definition = self.definitions.get(key)
        if definition is None:
            raise ValueError(f"there is no {self.object_type} attribute {key!r} any more.")
        if not _present(value):
            return None
        if definition.type == "list" and isinstance(value, str):
            value = [part for part in value.split(";") if part.strip()]  # CRM multi-selects
        return attribute_value_clean(definition, value, from_text=isinstance(value, str))


def plan_for(system: str, object_type: str) -> Plan:
    rules = FieldMapping.objects.filter(
        system=system, object_type=object_type, direction__in=("in", "both")
    ).values_list("crm_field", "cue_field")
    definitions = attribute_definitions(object_type=ATTRIBUTE_OBJECT[object_type])
    return Plan(object_type, tuple(rules), definitions)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def value_read(kind: str, value: Any, max_length: int | None = None) -> Any:
    """A CRM value as Cue's built-in field holds it; None for empty; ValueError if it can't."""
    if not _present(value):
        return None
    if kind == "text":
        text = str(value).strip()
        if max_length and len(text) > max_length:
            raise ValueError(f"longer than the {max_length} characters Cue keeps.")
        return text
    if kind == "email":
        text = str(value).strip()
        if not email_address_valid(text):
            raise ValueError("not an email address.")
        return text
    if kind == "phone":
        try:
            return phone_e164(str(value))
        except InvalidPhone:
            raise ValueError("not a valid phone number.") from None
    if kind == "integer":
        number = _decimal(value)
        if number != number.to_integral_value() or number < 0:
            raise ValueError("not a whole number of 0 or more.")
        return int(number)
    if kind == "decimal":
        return _decimal(value)
    raise ValueError(f"Cue cannot read a {kind}.")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("not a number.") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise ValueError("not a number Cue can hold.")
    return number


_TRUE = {"true", "yes", "1", "y", "on", "checked"}
_FALSE = {"false", "no", "0", "n", "off", "unchecked", ""}


def boolean_read(value: Any) -> bool | None:
    """A CRM checkbox: HubSpot sends "true"/"false" text, Salesforce JSON booleans."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a yes or no.")


def cue_field_kind(object_type: str, cue_field: str) -> str | None:
    """The kind of value a Cue field holds, or None when it names nothing."""
    if cue_field.startswith(ATTRIBUTE_PREFIX):
        key = cue_field.removeprefix(ATTRIBUTE_PREFIX)
        kind = ATTRIBUTE_OBJECT.get(object_type)
        definition = AttributeDefinition.objects.filter(object_type=kind, key=key).first()
        return definition.type if definition else None
    if cue_field in ROLES.get(object_type, ()):
        return cue_field
    built_in = BUILT_IN.get(object_type, {}).get(cue_field)
    return built_in[0] if built_in else None


def mapping_problem(object_type: str, cue_field: str, crm_type: str) -> str | None:
    """Why a CRM field of `crm_type` cannot fill `cue_field`, or None when it can. An
    empty `crm_type` (the CRM's fields not read) is checked at sync time, value by value."""
    kind = cue_field_kind(object_type, cue_field)
    if kind is None:
        choices = ", ".join([*BUILT_IN.get(object_type, {}), *ROLES.get(object_type, ())])
        return (
            f"{cue_field!r} is not a Cue field of a {object_type}: use one of {choices}, "
            f'or "attr.<key>" of a {ATTRIBUTE_OBJECT.get(object_type, object_type)} attribute.'
        )
    if crm_type and crm_type not in _HOLDS.get(kind, {kind}):
        return f"a CRM {crm_type} field cannot fill {cue_field!r}, which holds a {kind}."
    return None


def date_of(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None
