"""Reads the body of POST /api/v1/events/ into events, each with its own field errors.

Written by hand rather than as DRF serializers: a DRF serializer takes about 0.4 s for a
batch of 1000 events, this takes a few milliseconds. The shape is documented for OpenAPI by
the serializers in `serializers.py`; a test keeps the two in step. The rules of an event
itself are the domain's (`event_input_check`), applied here before any contact is created.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.contacts.api.fields import choices_invalid_message
from apps.contacts.errors import ContactsError
from apps.contacts.events import EventInput, event_input_check
from apps.contacts.identity import KEY_KINDS, ContactKeys, email_normalize, phone_e164
from apps.contacts.models import BuyingRole, Contact, ExternalIdSource, validate_time_zone
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.stages import lifecycle_keys

EVENT_FIELDS = frozenset(
    {"type", "occurred_at", "idempotency_key", "properties", "source", "contact", "create_contact"}
)
BATCH_FIELDS = frozenset({"events", "create_contact"})
CONTACT_KEYS = KEY_KINDS
CONTACT_DEFAULTS = {  # the fields used only when the event creates its contact: max length
    "first_name": 100, "last_name": 100, "time_zone": 64, "region": 64, "country": 64,
    "lifecycle_stage": 64, "buying_role": 16,
}  # fmt: skip
CONTACT_FIELDS = frozenset({*CONTACT_KEYS, *CONTACT_DEFAULTS, "source"})
ID_SOURCES = frozenset(ExternalIdSource.values)
CONTACT_CHOICES = {"buying_role": BuyingRole}
MAX_PROPERTIES_DEPTH = 10
MAX_ID = 2**63 - 1

REQUIRED = "This field is required."
OCCURRED_AT_FORMAT = (
    "Give an ISO 8601 date and time with an offset, e.g. 2025-03-01T14:30:00-05:00."
)


@dataclass(slots=True)
class ContactRef:
    """How an event names its contact, and what to create it with if it is unknown."""

    id: int | None = None
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    defaults: dict = field(default_factory=dict)
    source: str = ExternalIdSource.API  # whose id external_id is (Segment's userId: "segment")
    # The keys as identity compares them. The parser has checked and normalised each value
    # already (the phone to E.164); only the email keeps its case, for a contact created.
    keys: ContactKeys = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        email = email_normalize(self.email) if self.email else None
        self.keys = ContactKeys(self.id, self.external_id, email, self.phone, self.source)

    def describe(self) -> str:
        given = ((name, getattr(self, name)) for name in CONTACT_KEYS)
        text = ", ".join(f"{name} {value!r}" for name, value in given if value)
        if self.external_id and self.source != ExternalIdSource.API:
            text += f" (source {self.source!r})"
        return text


@dataclass(slots=True)
class EventItem:
    """One event of a request: ready to store (contact still unset) or with its errors."""

    index: int
    event: EventInput | None = None
    contact: ContactRef | None = None
    create_contact: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)


def events_body_parse(data: object) -> tuple[list[EventItem], bool]:
    """The events of a body and whether it held a single event (not a batch).

    Raises ValidationError only for a body that is wrong as a whole.
    """
    if not isinstance(data, dict):
        raise ValidationError(
            {"non_field_errors": ['Send one event as a JSON object, or {"events": [...]}.']}
        )
    now = timezone.now()  # one reading of the clock for the whole batch
    if "events" not in data:
        return [event_item_parse(0, data, create_contact=False, now=now)], True
    create_contact = _batch_create_flag(data)
    events = data["events"]
    limit = settings.EVENTS_BATCH_LIMIT
    if not isinstance(events, list) or not 1 <= len(events) <= limit:
        size = f" This one has {len(events)}." if isinstance(events, list) else ""
        raise ValidationError({"events": [f"Send a list of 1 to {limit} events.{size}"]})
    return [
        event_item_parse(index, raw, create_contact=create_contact, now=now)
        for index, raw in enumerate(events)
    ], False


def _batch_create_flag(data: dict) -> bool:
    errors = {name: ["Unknown field."] for name in data.keys() - BATCH_FIELDS}
    create_contact = data.get("create_contact", False)
    if not isinstance(create_contact, bool):
        errors["create_contact"] = ["Must be true or false."]
    if errors:
        raise ValidationError(errors)
    return create_contact


def event_item_parse(
    index: int, raw: object, *, create_contact: bool, now: datetime | None = None
) -> EventItem:
    """Reads one event; `create_contact` is the batch's default for its own flag.

    Written for a thousand events a request: each field is checked where it is read, and
    the helpers below run only for what is missing, of the wrong type or unusual.
    """
    item = EventItem(index)
    if not isinstance(raw, dict):
        item.errors["non_field_errors"] = ["An event is a JSON object."]
        return item
    errors = item.errors
    if not EVENT_FIELDS.issuperset(raw):
        for name in raw.keys() - EVENT_FIELDS:
            errors[name] = ["Unknown field."]
    get = raw.get
    type_ = get("type")
    if type(type_) is not str:
        type_ = _string_refused(errors, "type", type_, required=True)
    key = get("idempotency_key")
    if type(key) is not str:
        key = _string_refused(errors, "idempotency_key", key, required=True)
    occurred_at = _moment(raw, errors)
    source = get("source")
    if type(source) is not str or len(source) > 64:
        source = _string(raw, "source", errors, max_length=64) or ""
    properties = _properties(raw, errors)
    item.create_contact = _flag(raw, errors, default=create_contact)
    item.contact = _contact_ref(get("contact"), errors)
    if type_ is not None and key is not None and occurred_at is not None:
        event = EventInput(None, type_, occurred_at, key, properties, source)  # type: ignore[arg-type]
        try:
            event_input_check(event, now=now)
        except ContactsError as error:
            errors.setdefault(error.field or "non_field_errors", [error.message])
        item.event = event
    return item


def _string_refused(errors: dict, name: str, value: object, *, required: bool) -> None:
    """Records why a field's value that is no string is refused (a missing one only when
    the field is required); the field's value is then None."""
    if value is None:
        if required:
            errors[name] = [REQUIRED]
        return None
    errors[name] = ["Must be a string."]
    return None


def _string(raw: dict, name: str, errors: dict, *, key=None, required=False, max_length=None):
    key = key or name
    value = raw.get(name)
    if value is None:
        if required:
            errors[key] = [REQUIRED]
        return None
    if not isinstance(value, str):
        errors[key] = ["Must be a string."]
        return None
    if max_length and len(value) > max_length:
        errors[key] = [f"Ensure this field has no more than {max_length} characters."]
        return None
    return value


def _moment(raw: dict, errors: dict) -> datetime | None:
    value = raw.get("occurred_at")
    if type(value) is not str:
        return _string_refused(errors, "occurred_at", value, required=True)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = [OCCURRED_AT_FORMAT]
        return None
    if moment.tzinfo is None:
        return moment  # the domain check explains that the offset is missing
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        errors["occurred_at"] = ["occurred_at is out of range."]
        return None


def _properties(raw: dict, errors: dict):
    properties = raw.get("properties")
    if properties is None:
        return {}
    if isinstance(properties, dict) and properties and _depth(properties) > MAX_PROPERTIES_DEPTH:
        errors["properties"] = [f"properties may nest at most {MAX_PROPERTIES_DEPTH} levels deep."]
    return properties  # not an object: the domain check says so


def _depth(properties: dict) -> int:
    """How many levels of objects and lists there are, level by level: a flat object,
    the common case, is one look at its values."""
    depth, level = 1, [properties]
    while True:
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return depth
        depth += 1


def _flag(raw: dict, errors: dict, *, default: bool) -> bool:
    value = raw.get("create_contact")
    if value is None:
        return default
    if not isinstance(value, bool):
        errors["create_contact"] = ["Must be true or false."]
        return False
    return value


def _contact_ref(raw: object, errors: dict) -> ContactRef | None:
    if raw is None:
        errors["contact"] = [REQUIRED]
        return None
    if not isinstance(raw, dict):
        errors["contact"] = [
            "Give the contact as an object with an id, external_id, email or phone."
        ]
        return None
    before = len(errors)
    if not CONTACT_FIELDS.issuperset(raw):
        for name in raw.keys() - CONTACT_FIELDS:
            errors[f"contact.{name}"] = ["Unknown field."]
    # Only the keys given are read: most events name their contact by one of them.
    keys = {name: _CONTACT_KEY_READERS[name](raw, errors) for name in CONTACT_KEYS if name in raw}
    read = len(keys)
    if "source" in raw:
        keys["source"] = _contact_source(raw, errors)
        read += 1
    defaults = _contact_defaults(raw, errors) if len(raw) > read else {}
    if len(errors) > before:
        return None
    ref = ContactRef(**keys, defaults=defaults)
    if not ref.keys.filed():  # kept: the identity index asks for the same
        errors["contact"] = ["Name the contact by its id, external_id, email or phone."]
        return None
    return ref


def _contact_id(raw: dict, errors: dict) -> int | None:
    value = raw.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        errors["contact.id"] = ["Give the contact id as a positive integer."]
        return None
    return value


def _contact_external_id(raw: dict, errors: dict) -> str | None:
    return _contact_text(raw, "external_id", errors, max_length=100)


def _contact_source(raw: dict, errors: dict) -> str:
    """Whose id external_id is: "api" (Cue's own, the default) or another system's."""
    source = raw["source"]
    if source is None:
        return ExternalIdSource.API
    if not isinstance(source, str) or source not in ID_SOURCES:
        shown = json.dumps(source) if isinstance(source, str) else "This"
        errors["contact.source"] = [
            f"{shown[:80]} is not a source; choose from {', '.join(ExternalIdSource.values)}."
        ]
    elif not raw.get("external_id"):
        errors["contact.source"] = ["source says whose external_id it is: give external_id too."]
    return source


def _contact_text(raw: dict, name: str, errors: dict, *, max_length: int) -> str | None:
    value = raw.get(name)
    if type(value) is str and len(value) <= max_length:  # the common case, read directly
        return value.strip() or None
    value = _string(raw, name, errors, key=f"contact.{name}", max_length=max_length)
    if value is None:
        return None
    return value.strip() or None


def _contact_email(raw: dict, errors: dict) -> str | None:
    email = _contact_text(raw, "email", errors, max_length=254)
    if email is None:
        return None
    if not _email_valid(email):
        errors["contact.email"] = ["Enter a valid email address."]
        return None
    return email


@lru_cache(maxsize=8192)
def _email_valid(email: str) -> bool:
    try:
        validate_email(email)
    except DjangoValidationError:
        return False
    return True


def _contact_phone(raw: dict, errors: dict) -> str | None:
    phone = _contact_text(raw, "phone", errors, max_length=64)
    if phone is None:
        return None
    try:
        return phone_e164(phone)
    except ValueError as error:
        errors["contact.phone"] = [str(error)]
        return None


_CONTACT_KEY_READERS = {
    "id": _contact_id,
    "external_id": _contact_external_id,
    "email": _contact_email,
    "phone": _contact_phone,
}


def _contact_defaults(raw: dict, errors: dict) -> dict:
    defaults = {}
    for name in CONTACT_DEFAULTS.keys() & raw.keys():
        value = _contact_text(raw, name, errors, max_length=CONTACT_DEFAULTS[name])
        if value is None:
            continue
        problem = _contact_default_problem(name, value)
        if problem:
            errors[f"contact.{name}"] = [problem]
        else:
            defaults[name] = value
    _contact_place(defaults, errors)
    return defaults


def _contact_place(defaults: dict, errors: dict) -> None:
    """Country as its ISO code and region as its postal code, as the contact services store
    them: a contact created by an event gets its state's quiet hours and caps too."""
    try:
        if "country" in defaults:
            defaults["country"] = country_normalize(defaults["country"])
        if "region" in defaults:
            country = defaults.get("country") or Contact._meta.get_field("country").default
            defaults["region"] = region_normalize(defaults["region"], country)
    except ContactsError as error:
        del defaults[error.field]
        errors[f"contact.{error.field}"] = [error.message]


def _contact_default_problem(name: str, value: str) -> str | None:
    if name == "lifecycle_stage" and value not in (allowed := lifecycle_keys()):
        return f'"{value}" is not one of: {", ".join(allowed)}.'
    if name in CONTACT_CHOICES and value not in CONTACT_CHOICES[name].values:
        return choices_invalid_message(CONTACT_CHOICES[name], value)
    if name == "time_zone":
        try:
            validate_time_zone(value)
        except DjangoValidationError as error:
            return error.messages[0]
    return None
