"""Custom attributes: the one check every write of an `attributes` value passes.

Values are stored in the object's `attributes` JSON in one canonical form per type, so
that SQL can compare them without knowing who wrote them:

- text: a string (NUL and lone surrogates cleaned), up to 1000 characters
- number: a JSON number (an int when whole), finite
- boolean: true or false
- date: "YYYY-MM-DD"
- datetime: UTC, "YYYY-MM-DDTHH:MM:SS+00:00" (fixed width: text order is time order)
- choice: one of the definition's options, as written there
- list: a list of distinct non-empty strings, up to 100

A null value clears the attribute (the key is removed, never stored as null).
"""

import math
from datetime import UTC, date, datetime
from typing import Any

from apps.contacts.errors import ContactsError
from apps.contacts.models import AttributeDefinition, AttributeType
from apps.core.text import text_storable

MAX_TEXT = 1000
MAX_LIST = 100
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})


class AttributesError(ContactsError):
    """One or more attribute values are wrong; `errors` holds the messages by key."""

    def __init__(self, errors: dict[str, list[str]]):
        text = "; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items())
        super().__init__(text, field="attributes")
        self.errors = errors

    def as_field_errors(self) -> dict:
        return {"attributes": self.errors}


def attribute_definitions(*, object_type: str) -> dict[str, AttributeDefinition]:
    return {d.key: d for d in AttributeDefinition.objects.filter(object_type=object_type)}


def attributes_validate(
    *,
    object_type: str,
    values: Any,
    partial: bool,
    from_text: bool = False,
    definitions: dict[str, AttributeDefinition] | None = None,
) -> dict:
    """The values in their stored form, or AttributesError naming every bad key.

    `partial`: the values change only the keys they name, and a null keeps its meaning
    (clear this key) for `attributes_merge`; otherwise they are the whole set and nulls are
    dropped. `from_text`: the values came as text (a CSV cell), so "42" is a number and
    "yes" a boolean; JSON callers give typed values. Empty text or an empty list is no
    value, and clears like a null (so that "is set" means something is there).
    """
    if not isinstance(values, dict):
        raise AttributesError({"non_field_errors": ['Give an object, e.g. {"plan": "pro"}.']})
    if definitions is None:
        definitions = attribute_definitions(object_type=object_type)
    clean, errors = {}, {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            errors[key] = [_unknown(key, object_type, definitions)]
            continue
        if from_text and isinstance(value, str) and not value.strip():
            value = None
        try:
            cleaned = None if value is None else attribute_value_clean(definition, value, from_text)
            clean[key] = None if cleaned in ("", []) else cleaned
        except ValueError as error:
            errors[key] = [_message(definition, str(error), value)]
    if errors:
        raise AttributesError(errors)
    return clean if partial else {key: value for key, value in clean.items() if value is not None}


def attributes_merge(current: dict | None, changes: dict) -> dict:
    """`current` with `changes` applied: a null removes its key."""
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _message(definition: AttributeDefinition, message: str, value: Any) -> str:
    """A PII attribute's value is never repeated: errors reach API answers, import reports
    and logs."""
    return message.replace(_shown(value), "This value") if definition.pii else message


def _shown(value: Any) -> str:
    """How a refused value is quoted in a message."""
    return repr(value.strip() if isinstance(value, str) else value)


def _unknown(key: str, object_type: str, definitions: dict) -> str:
    known = ", ".join(sorted(definitions)) or "none yet"
    return f"{key!r} is not a {object_type} attribute; define it first (known: {known})."


def attribute_value_clean(definition: AttributeDefinition, value: Any, from_text: bool = False):
    """One value in its stored form; ValueError with a message a person can act on."""
    cleaner = _CLEANERS[definition.type]
    return cleaner(definition, value, from_text)


def _text(definition, value, from_text):
    if not isinstance(value, str):
        raise ValueError("Give text.")
    value = text_storable(value).strip()
    if len(value) > MAX_TEXT:
        raise ValueError(f"Give at most {MAX_TEXT} characters.")
    return value


def _number(definition, value, from_text):
    if from_text and isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            raise ValueError(f"{_shown(value)} is not a number.") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Give a number, e.g. 42 or 3.5.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Give a number, e.g. 42 or 3.5.")
    if abs(value) > 1e15:  # compared exactly: a 400-digit int must not overflow a float
        raise ValueError("Give a number between -10^15 and 10^15.")
    return int(value) if float(value).is_integer() else float(value)


def _boolean(definition, value, from_text):
    if from_text and isinstance(value, str):
        word = value.strip().casefold()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
    if not isinstance(value, bool):
        raise ValueError("Give true or false.")
    return value


def _date(definition, value, from_text):
    text = value.strip() if isinstance(value, str) else ""
    if len(text) == 10:  # fromisoformat also reads 20260331 and 2026-W13: not dates people mean
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-03-31.")


def _datetime(definition, value, from_text):
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:
            raise ValueError("Give the time with its offset, e.g. 2026-03-31T14:00:00-05:00.")
        if moment is not None:
            return moment.astimezone(UTC).isoformat(timespec="seconds")
    raise ValueError("Give a date and time in ISO 8601, e.g. 2026-03-31T14:00:00-05:00.")


def _choice(definition, value, from_text):
    if isinstance(value, str):
        options = definition.options or []
        if value in options:
            return value
        folded = {option.casefold(): option for option in options}
        if value.strip().casefold() in folded:
            return folded[value.strip().casefold()]  # "Pro" means the option "pro"
    return _choice_refused(definition, value)


def _choice_refused(definition, value):
    options = ", ".join(definition.options or [])
    raise ValueError(f"{_shown(value)} is not an option; choose from {options}.")


def _list(definition, value, from_text):
    if from_text and isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError('Give a list of text, e.g. ["sms", "email"].')
    items = [text_storable(item).strip() for item in value]
    items = list(dict.fromkeys(item for item in items if item))
    if len(items) > MAX_LIST or any(len(item) > MAX_TEXT for item in items):
        raise ValueError(f"Give at most {MAX_LIST} items of at most {MAX_TEXT} characters.")
    return items


_CLEANERS = {
    AttributeType.TEXT: _text,
    AttributeType.NUMBER: _number,
    AttributeType.BOOLEAN: _boolean,
    AttributeType.DATE: _date,
    AttributeType.DATETIME: _datetime,
    AttributeType.CHOICE: _choice,
    AttributeType.LIST: _list,
}
