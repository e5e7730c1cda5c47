"""Stores the events of one request in a fixed number of queries, whatever the batch size.

Every contact the batch names is looked up with one query per kind of key, the unknown
ones are created together, and the events are recorded with one `record_events` call.
A repeated idempotency key stores nothing: not the event, and not a contact for it.
"""

from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from simple_history.utils import bulk_create_with_history

from apps.contacts.api.event_input import CONTACT_KEYS, ContactRef, EventItem
from apps.contacts.errors import ContactsError
from apps.contacts.events import ContactId, record_events
from apps.contacts.models import Contact, ContactKind, Event

CREATED, DUPLICATE, ERROR = "created", "duplicate", "error"


class EventOutcome(NamedTuple):
    index: int
    status: str
    id: int | None = None
    errors: dict[str, list[str]] | None = None

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "status": self.status,
            "id": self.id,
            "errors": self.errors or {},
        }


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
    for _attempt in (1, 2):
        try:
            with transaction.atomic():
                return _items_store(items, actor, may_create)
        except _ContactRace as race:  # the next attempt finds the contact the other one made
            error = race
    raise ContactsError(
        "Another request created the same contacts at the same time; send the batch again.",
        field="contact",
    ) from error


def _items_store(items: list[EventItem], actor, may_create: bool) -> dict:
    directory = ContactDirectory.load([item.contact for item in items])
    found = [(item, directory.find(item.contact)) for item in items]
    # An event whose key is stored already creates no contact, so the events that would
    # need one look their keys up first. The others need no look-up: the insert skips a
    # stored key, and record_events answers with the original's id.
    stored = _stored_event_ids(
        {item.event.idempotency_key for item, contact in found if contact is None}
    )
    outcomes = {
        item.index: EventOutcome(item.index, DUPLICATE, stored[item.event.idempotency_key])
        for item, _ in found
        if item.event.idempotency_key in stored
    }
    fresh = [pair for pair in found if pair[0].event.idempotency_key not in stored]
    return {**outcomes, **_fresh_items_store(fresh, directory, actor, may_create)}


def _stored_event_ids(keys: set[str]) -> dict[str, int]:
    if not keys:
        return {}
    return dict(Event.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "id"))


def _fresh_items_store(
    items: list[tuple[EventItem, Contact | ContactId | None]],
    directory: "ContactDirectory",
    actor,
    may_create: bool,
) -> dict:
    outcomes: dict[int, EventOutcome] = {}
    placed: list[EventItem] = []
    first_with_key: dict[str, EventItem] = {}
    for item, contact in items:
        key = item.event.idempotency_key
        if key in first_with_key:
            continue  # a duplicate within the batch: answered below with the first's id
        if contact is None:  # unknown when loaded, unless an earlier event planned it
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
        item.event.contact = contact  # a planned contact has its pk once created, below
        placed.append(item)
    directory.planned_create(actor=actor)
    recorded = record_events([item.event for item in placed], checked=True)
    for item, result in zip(placed, recorded, strict=True):
        status = CREATED if result.created else DUPLICATE
        outcomes[item.index] = EventOutcome(item.index, status, result.event_id)
    for item, _ in items:
        first = first_with_key.get(item.event.idempotency_key)
        if item.index not in outcomes and first is not None:
            outcomes[item.index] = EventOutcome(item.index, DUPLICATE, outcomes[first.index].id)
    return outcomes


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

    Known contacts are loaded as rows of their keys, not as model instances: an event
    needs just its contact's id, and a Contact would parse every phone number again.
    """

    def __init__(self) -> None:
        self._by: dict[str, dict] = {name: {} for name in CONTACT_KEYS}
        self.planned: list[Contact] = []

    @classmethod
    def load(cls, refs: list[ContactRef]) -> "ContactDirectory":
        directory = cls()
        wanted: dict[str, set] = {name: set() for name in CONTACT_KEYS}
        for ref in refs:
            for name, value in ref.lookups:
                wanted[name].add(value)
        for name, values in wanted.items():
            if values:
                for pk, external_id, email, phone in _contacts_by(name, values, refs):
                    directory.add(ContactId(pk), (pk, external_id, email.lower(), phone))
        return directory

    def add(self, contact: Contact | ContactId, keys: tuple) -> None:
        for name, value in zip(CONTACT_KEYS, keys, strict=True):
            if value:
                self._by[name][value] = contact

    def find(self, ref: ContactRef) -> Contact | ContactId | None:
        if ref.id is not None:  # an id names one contact, or none
            return self._by["id"].get(ref.id)
        for name, value in ref.lookups:
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


# How each kind of key finds its contacts. Written as SQL, not as a QuerySet: for a
# thousand keys the ORM spends several times longer preparing the values than the
# database spends finding them. The conditions are the partial indexes' own, and the
# phone column is read as text (PhoneNumberField would parse each value).
_CONTACT_MATCH = {
    "id": "id {}",
    "external_id": "external_id {}",
    "email": "NOT (email = '') AND LOWER(email) {}",
    "phone": "NOT (phone = '') AND phone {}",
}


def _contacts_by(name: str, values: set, refs: list[ContactRef]) -> list[tuple]:
    """(id, external_id, email, phone) of the contacts whose `name` is one of `values`."""
    if name == "email":
        # SQLite's LOWER() folds ASCII only, Python's everything: ask for the spellings
        # either database could have stored, and compare folded in Python.
        values = values | {_ascii_lower(ref.email) for ref in refs if ref.email}
    with connection.cursor() as cursor:
        cursor.execute(*_contacts_by_sql(name, values))
        return cursor.fetchall()


def _contacts_by_sql(name: str, values: set) -> tuple[str, list]:
    in_values, params = _one_of(values, "bigint" if name == "id" else "text")
    sql = (
        "SELECT id, external_id, email, phone FROM contacts_contact"
        f" WHERE {_CONTACT_MATCH[name].format(in_values)}"
        " ORDER BY id DESC"  # Contact's own order: the oldest wins a shared key
    )
    return sql, params


def _one_of(values: set, type_: str) -> tuple[str, list]:
    """SQL for "is one of these values": on PostgreSQL one array parameter, which costs
    less to send than a parameter per value."""
    if connection.vendor == "postgresql":
        return f"= ANY(%s::{type_}[])", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


def _ascii_lower(text: str) -> str:
    return "".join(char.lower() if char.isascii() else char for char in text)
