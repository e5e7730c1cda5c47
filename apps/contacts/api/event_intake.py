"""Stores the events of one request in a fixed number of queries, whatever the batch size.

Every contact the batch names is looked up by the identity service (one query per kind
of key), the unknown ones are created together, and the events are recorded with one
`record_events` call. Keys naming two different contacts refuse the event, with a reason
naming both.
A repeated idempotency key stores nothing: not the event, and not a contact for it.
"""

from typing import NamedTuple

from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from apps.contacts.api.event_input import ContactRef, EventItem
from apps.contacts.errors import ContactsError, contact_erased_refusal
from apps.contacts.events import ContactId, event_ids_by_key, record_events
from apps.contacts.external_ids import external_ids_create
from apps.contacts.identity import IdentityIndex, KnownContact, Resolution
from apps.contacts.models import Contact, ContactKind, ExternalIdSource

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
    # An event whose key is stored already creates no contact (and is no conflict: it is
    # answered as the original), so the events without one contact look their keys up
    # first. The others need no look-up: the insert skips a stored key, and record_events
    # answers with the original's id.
    stored = _stored_event_ids(
        {item.event.idempotency_key for item, found_as in found if found_as.known is None}
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
    return event_ids_by_key(list(keys))


def _fresh_items_store(
    items: list[tuple[EventItem, Resolution]],
    directory: "ContactDirectory",
    actor,
    may_create: bool,
) -> dict:
    outcomes: dict[int, EventOutcome] = {}
    placed: list[EventItem] = []
    first_with_key: dict[str, EventItem] = {}
    erased = _erased_among(items)
    for item, found in items:
        key = item.event.idempotency_key
        if key in first_with_key:
            continue  # a duplicate within the batch: answered below with the first's id
        if found.known is None:  # unknown when loaded, unless an earlier event planned it
            found = directory.find(item.contact)
        problem = erased.get(item.contact.id) or _contact_problem(item, found, may_create)
        if problem:
            outcomes[item.index] = EventOutcome(item.index, ERROR, errors={"contact": [problem]})
            continue
        first_with_key[key] = item
        # a planned contact has its pk once created, below
        item.event.contact = directory.contact_of(found) or directory.plan(
            item.contact, source=item.event.source or "api"
        )
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


def _erased_among(items: list[tuple[EventItem, Resolution]]) -> dict[int, str]:
    """{id: why refused} for the erased contacts the batch names by id. Only an id can
    name one: an erasure blanks every other key. No query when no event names an id."""
    ids = {item.contact.id for item, _ in items if item.contact.id is not None}
    if not ids:
        return {}
    erased = Contact.objects.filter(pk__in=ids, erased_at__isnull=False)
    return {contact.pk: contact_erased_refusal(contact).message for contact in erased}


def _contact_problem(item: EventItem, found: Resolution, may_create: bool) -> str | None:
    if found.conflict is not None:
        return found.conflict.reason
    return None if found.known is not None else _creation_problem(item, may_create)


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
    """The contacts a batch names, from the identity service; new ones are planned here
    too, so that two events naming the same new person create one contact.

    Known contacts are kept as their keys, not as model instances: an event needs just its
    contact's id, and a Contact would parse every phone number again.
    """

    def __init__(self, index: IdentityIndex) -> None:
        self.index = index
        self.planned: list[Contact] = []
        self.planned_ids: list[tuple[Contact, str, str] | None] = []  # their external ids

    @classmethod
    def load(cls, refs: list[ContactRef]) -> "ContactDirectory":
        return cls(IdentityIndex.load(ref.keys for ref in refs))

    def find(self, ref: ContactRef) -> Resolution:
        return self.index.resolve(ref.keys)

    @staticmethod
    def contact_of(found: Resolution) -> Contact | ContactId | None:
        if found.known is None:
            return None
        return found.known.planned or ContactId(found.known.pk)

    def plan(self, ref: ContactRef, *, source: str) -> Contact:
        keys = ref.keys
        api_id = keys.external_id if keys.source == ExternalIdSource.API else None
        contact = Contact(
            external_id=api_id,
            email=ref.email or "",
            phone=ref.phone or "",
            kind=ContactKind.PROSPECT,
            source=source,
            **ref.defaults,
        )
        known = KnownContact(None, api_id, keys.email or "", keys.phone or "", contact)
        if keys.external_id and api_id is None:
            known.ids[keys.source] = keys.external_id
        self.index.put(known)
        self.planned.append(contact)
        self.planned_ids.append(
            (contact, keys.source, keys.external_id) if keys.external_id else None
        )
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
                external_ids_create(row for row in self.planned_ids if row)
        except IntegrityError as error:
            raise _ContactRace from error
