"""Salesforce's write rules, as the fake enforces them: unknown and read-only fields,
required fields on create, value types, lengths, restricted picklists, and the
validation rules a test adds."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from .schema import FieldSpec, ObjectSpec
from .soql import DATE_TYPES, NUMBER_TYPES, STRING_TYPES


@dataclass(frozen=True)
class WriteError:
    """One reason Salesforce refuses a record write."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def rest_body(self) -> dict:
        return {"message": self.message, "errorCode": self.code, "fields": list(self.fields)}

    def composite_body(self) -> dict:
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


@dataclass(frozen=True)
class ValidationRule:
    """A test's stand-in for an org's validation rule: refuse writes leaving `field`
    equal to `value` on `object_name`."""

    object_name: str
    field: str
    value: Any
    code: str
    message: str


def field_errors(spec: ObjectSpec, values: dict[str, Any], creating: bool) -> list[WriteError]:
    errors = []
    for name, value in values.items():
        field = spec.fields.get(name)
        if field is None:
            return [
                WriteError(
                    "INVALID_FIELD", f"No such column '{name}' on sobject of type {spec.name}"
                )
            ]
        if not (field.createable if creating else field.updateable):
            verb = "create" if creating else "update"
            message = f"Unable to {verb} fields: {name}. Please check the security settings."
            errors.append(WriteError("INVALID_FIELD_FOR_INSERT_UPDATE", message, (name,)))
        elif problem := _value_problem(field, value):
            errors.append(WriteError(*problem, (name,)))
    if creating:
        missing = [
            field.name
            for field in spec.fields.values()
            if not field.nillable and field.createable and values.get(field.name) in (None, "")
        ]
        if missing:
            message = f"Required fields are missing: [{', '.join(missing)}]"
            errors.append(WriteError("REQUIRED_FIELD_MISSING", message, tuple(missing)))
    return errors


def _value_problem(field: FieldSpec, value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if field.type in STRING_TYPES and not isinstance(value, str):
        return ("JSON_PARSER_ERROR", f"Cannot deserialize {field.name} from {value!r}")
    if field.type in STRING_TYPES and field.length and len(value) > field.length:
        return (
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {value[:20]}... (max length={field.length})",
        )
    if field.type == "picklist" and field.restricted and value not in field.picklist:
        return (
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {value}",
        )
    if field.type == "boolean" and not isinstance(value, bool):
        return ("JSON_PARSER_ERROR", f"Cannot deserialize instance of boolean from {value!r}")
    if field.type in NUMBER_TYPES and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        return ("JSON_PARSER_ERROR", f"Cannot deserialize instance of double from {value!r}")
    if field.type in DATE_TYPES and not _is_iso_date(value):
        return ("JSON_PARSER_ERROR", f"Cannot deserialize instance of date from {value!r}")
    return None


def _is_iso_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10
