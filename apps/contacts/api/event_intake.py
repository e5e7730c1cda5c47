"""Stores the events of one request in a fixed number of queries, whatever the batch size.

Every contact the batch names is looked up with one query per kind of key, the unknown
ones are created together, and the events are recorded with one `record_events` call.
A repeated idempotency key stores nothing: not the event, and not a contact for it.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import CharField, ExpressionWrapper, F
from django.db.models.functions import Lower
from simple_history.utils import bulk_create_with_history

from apps.contacts.api.event_input import CONTACT_KEYS, ContactRef, EventItem
from apps.contacts.errors import ContactsError
from apps.contacts.events import EventInput, record_events
from apps.contacts.models import Contact, ContactKind, Event

CREATED, DUPLICATE, ERROR = "created", "duplicate", "error"


@dataclass(frozen=True)
class EventOutcome:
    index: int
    status: str
    id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"index": self.index, "status": self.status, "id": self.id, "errors": self.errors}


class _ContactRace(Exception):
    """Another request created one of the batch's new contacts first."""


def events_intake(
    *, items: list[EventItem], actor, may_create_contacts: bool
) -> list[EventOutcome]:
    """One outcome per item, in order. The good items are stored even when others are bad."""
    outcomes = {
        item.index: EventOutcome(item.index, ERROR, errors=item.errors)
        for item in items
        if item.errors
    }
    good = [item for item in items if not item.errors]
    if good:
        outcomes.update(_good_items_store(good, actor, may_create_contacts))
    return [outcomes[item.index] for item in items]


def _good_items_store(items: list[EventItem], actor, may_create: bool) -> dict:
    stored = dict(
        Event.objects.filter(
            idempotency_key__in={item.event.idempotency_key for item in items}
        ).values_list("idempotency_key", "id")
    )
    outcomes = {
        item.index: EventOutcome(item.index, DUPLICATE, stored[item.event.idempotency_key])
        for item in items
        if item.event.idempotency_key in stored
    }
    fresh = [item for item in items if item.event.idempotency_key not in stored]
    for _attempt in (1, 2):
        try:
            with transaction.atomic():
                return {**outcomes, **_fresh_items_store(fresh, actor, may_create)}
        except _ContactRace as race:  # the next attempt finds the contact the other one made
            error = race
    raise ContactsError(
        "Another request created the same contacts at the same time; send the batch again.",
        field="contact",
    ) from error


def _fresh_items_store(items: list[EventItem], actor, may_create: bool) -> dict:
    directory = ContactDirectory.load([item.contact for item in items])
    outcomes: dict[int, EventOutcome] = {}
    placed: list[tuple[EventItem, EventInput]] = []
    first_with_key: dict[str, EventItem] = {}
    for item in items:
        key = item.event.idempotency_key
        if key in first_with_key:
            continue  # a duplicate within the batch: answered below with the first's id
        contact = directory.find(item.contact)
        if contact is None:
            problem = _creation_problem(item, may_create)
            if problem:
                outcomes[item.index] = EventOutcome(
                    item.index, ERROR, errors={"contact": [problem]}
                )
                continue
            contact = directory.plan(item.contact, source=item.event.source or "api")
        first_with_key[key] = item
        placed.append((item, _with_contact(item.event, contact)))
    directory.planned_create(actor=actor)
    recorded = record_events([event for _, event in placed], checked=True)
    for (item, _), result in zip(placed, recorded, strict=True):
        status = CREATED if result.created else DUPLICATE
        outcomes[item.index] = EventOutcome(item.index, status, result.event_id)
    for item in items:
        first = first_with_key.get(item.event.idempotency_key)
        if item.index not in outcomes and first is not None:
            outcomes[item.index] = EventOutcome(item.index, DUPLICATE, outcomes[first.index].id)
    return outcomes


def _with_contact(event: EventInput, contact: Contact) -> EventInput:
    """dataclasses.replace(event, contact=contact), at a fraction of its cost per item,
    keeping the properties already serialised by the check."""
    placed = EventInput(
        contact,
        event.type,
        event.occurred_at,
        event.idempotency_key,
        event.properties,
        event.source,
    )
    if "properties_json" in event.__dict__:
        placed.__dict__["properties_json"] = event.__dict__["properties_json"]
    return placed


def _creation_problem(item: EventItem, may_create: bool) -> str | None:
    ref = item.contact
    if ref.id is not None:
        return f"No contact has id {ref.id}."
    if not item.create_contact:
        return f"No contact matches {ref.describe()}. Send create_contact: true to create one."
    if not may_create:
        return (
            f"No contact matches {ref.describe()}, and creating one needs the"
            " contacts.add_contact permission."
        )
    return None


class ContactDirectory:
    """The contacts a batch names, by each of their keys; new ones are planned here too,
    so that two events naming the same new person create one contact.

    Known contacts are loaded with their keys only: an event needs just its contact's id,
    and whole rows would parse and validate every phone number again.
    """

    def __init__(self) -> None:
        self._by: dict[str, dict] = {name: {} for name in CONTACT_KEYS}
        self.planned: list[Contact] = []

    @classmethod
    def load(cls, refs: list[ContactRef]) -> "ContactDirectory":
        directory = cls()
        wanted: dict[str, set] = {name: set() for name in CONTACT_KEYS}
        for ref in refs:
            for name, value in ref.lookups():
                wanted[name].add(value)
        for name, values in wanted.items():
            if values:
                for contact in _contacts_by(name, values, refs):
                    keys = (contact.pk, contact.external_id, contact.email.lower())
                    directory.add(contact, (*keys, contact.phone_text))
        return directory

    def add(self, contact: Contact, keys: tuple) -> None:
        for name, value in zip(CONTACT_KEYS, keys, strict=True):
            if value:
                self._by[name][value] = contact

    def find(self, ref: ContactRef) -> Contact | None:
        if ref.id is not None:  # an id names one contact, or none
            return self._by["id"].get(ref.id)
        for name, value in ref.lookups():
            if value in self._by[name]:
                return self._by[name][value]
        return None

    def plan(self, ref: ContactRef, *, source: str) -> Contact:
        contact = Contact(
            external_id=ref.external_id,
            email=ref.email or "",
            phone=ref.phone or "",
            kind=ContactKind.PROSPECT,
            source=source,
            **ref.defaults,
        )
        self.add(contact, (None, ref.external_id, (ref.email or "").lower(), ref.phone))
        self.planned.append(contact)
        return contact

    def planned_create(self, *, actor) -> None:
        if not self.planned:
            return
        try:
            with transaction.atomic():
                bulk_create_with_history(
                    self.planned,
                    Contact,
                    default_user=actor,
                    default_change_reason="Created by an event sent to the API",
                )
        except IntegrityError as error:
            raise _ContactRace from error


def _contacts_by(name: str, values: set, refs: list[ContactRef]):
    # The phone column read and compared as text: PhoneNumberField would parse each value.
    contacts = Contact.objects.annotate(
        phone_text=ExpressionWrapper(F("phone"), output_field=CharField())
    )
    if name == "id":
        contacts = contacts.filter(pk__in=values)
    elif name == "external_id":
        contacts = contacts.filter(external_id__in=values)
    elif name == "phone":
        contacts = contacts.exclude(phone="").filter(phone_text__in=values)
    else:
        # SQLite's LOWER() folds ASCII only, Python's everything: ask for the spellings
        # either database could have stored, and compare folded in Python.
        spellings = values | {_ascii_lower(ref.email) for ref in refs if ref.email}
        contacts = (
            contacts.exclude(email="")
            .alias(email_key=Lower("email"))
            .filter(email_key__in=spellings)
        )
    return contacts.only("id", "external_id", "email")


def _ascii_lower(text: str) -> str:
    return "".join(char.lower() if char.isascii() else char for char in text)
