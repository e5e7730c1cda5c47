"""Writing a batch of people from another system (a CRM sync page) in a few statements.

The per-contact services (`contact_upsert`) are right for one change at a time; a CRM's
full sync is a hundred thousand of them. This takes a page of people at once through the
same rules: identity's one look-up and its conflict policy (two keys naming two contacts
are refused with a reason naming both, never merged), typed attributes, the stage-time
rule (a change older than the stage's own time is history, not the current stage), the
consent binding of a changed address, and history rows for every change (by the system
actor, with the caller's reason). Unchanged people are not written at all, so a re-read
page changes nothing.

New people are planned as plain values (`_NewContact`), each phone number read once, and
stored with their history and ids set-based (apps/contacts/batch_rows.py): the ORM's
preparation of every field of every row was most of a full sync's time.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.services import system_user
from apps.contacts.attributes import attributes_merge
from apps.contacts.batch_rows import history_rows_copy, rows_insert
from apps.contacts.errors import ContactsError
from apps.contacts.events import ContactId, EventInput, record_events
from apps.contacts.identity import ContactKeys, IdentityIndex, KnownContact, phone_e164
from apps.contacts.models import Contact, ContactExternalId, ContactKind, EventType
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.services import contact_addresses_changed
from apps.contacts.stages import lifecycle_keys

ADDRESS_FIELDS = ("email", "phone")
_FOREIGN_KEYS = {"owner": "owner_id", "company": "company_id"}


@dataclass
class PersonWrite:
    """One person as the other system holds them. `fields` are Contact fields already in
    Cue's form (None clears); `attributes` a partial change. `previous_id`: the id this
    person had in the same source before (a Salesforce lead converted into a contact), so
    the contact it named carries on under the new id."""

    keys: ContactKeys
    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    lifecycle_stage: str | None = None
    stage_changed_at: datetime | None = None
    previous_id: str | None = None
    create: bool = True  # False: only an update of someone known (a converted lead)


@dataclass
class PersonWritten:
    contact_id: int | None = None
    created: bool = False
    changed: list[str] = field(default_factory=list)
    refused: str = ""
    problems: list[str] = field(default_factory=list)  # fields left out, the rest taken


class _NewContact:
    """A contact the batch creates, as its column values by field name until it is stored.
    (A Contact would parse its phone number again at every assignment and every save.)"""

    pk: int | None = None

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)

    def row(self) -> tuple:
        return tuple(self.__dict__[name] for name in _columns())


@cache
def _columns() -> tuple[str, ...]:
    """The Contact columns a new row fills: all but its id."""
    return tuple(f.attname for f in Contact._meta.concrete_fields if not f.primary_key)


def _new_values(source: str, now: datetime) -> dict[str, Any]:
    """A new contact's values before the person's own: the model's defaults."""
    values = {}
    for field_ in Contact._meta.concrete_fields:
        if not field_.primary_key:
            default = field_.get_default()
            values[field_.attname] = default.value if isinstance(default, Enum) else default
    values.update(kind=ContactKind.PROSPECT.value, source=source, created_at=now, updated_at=now)
    return values


@transaction.atomic
def contacts_write_many(
    items: list[PersonWrite], *, source: str, event_source: str, reason: str
) -> list[PersonWritten]:
    """One result per item, in order. `source` is the system whose ids the keys carry."""
    results = [PersonWritten() for _ in items]
    _rekey(items, results, source)
    index = IdentityIndex.load(item.keys for item in items)
    existing = Contact.objects.select_for_update().in_bulk(index.contact_ids())
    plan = _Plan(source, existing)
    for item, result in zip(items, results, strict=True):
        if not result.refused:
            plan.add(item, result, index)
    plan.save(reason=reason, event_source=event_source)
    return results


def _rekey(items: list[PersonWrite], results: list[PersonWritten], source: str) -> None:
    """Moves a converted person's id from the old record's to the new one's."""
    moves = {
        i.previous_id: i.keys.external_id for i in items if i.previous_id and i.keys.external_id
    }
    if not moves:
        return
    taken = dict(
        ContactExternalId.objects.filter(source=source, value__in=moves.values()).values_list(
            "value", "contact_id"
        )
    )
    rows = ContactExternalId.objects.filter(source=source, value__in=list(moves))
    for row in rows.select_for_update():
        new_id = moves[row.value]
        owner = taken.get(new_id)
        if owner is not None and owner != row.contact_id:
            for item, result in zip(items, results, strict=True):
                if item.previous_id == row.value:
                    result.refused = (
                        f"{source} record {row.value!r} became {new_id!r}, which already names "
                        f"contact #{owner}, while {row.value!r} names contact #{row.contact_id}. "
                        "They are not merged."
                    )
            continue
        if owner is None:
            row.value = new_id
            row.save(update_fields=["value"])


class _Plan:
    def __init__(self, source: str, existing: dict[int, Contact]):
        self.source = source
        self.existing = existing
        self.stages = set(lifecycle_keys())
        self.now = timezone.now()
        self.new_values = _new_values(source, self.now)
        self.new: list[_NewContact] = []
        self.new_ids: list[tuple[_NewContact, str, str]] = []
        self.changed: dict[int, Contact] = {}
        self.changed_fields: set[str] = set()
        self.ids_added: list[tuple[Contact, str, str]] = []
        self.addresses_before: dict[int, dict[str, str]] = {}
        self.stage_events: list[tuple[Contact, str, str, datetime]] = []
        self.results: list[tuple[Contact, PersonWritten]] = []

    def add(self, item: PersonWrite, result: PersonWritten, index: IdentityIndex) -> None:
        found = index.resolve(item.keys)
        if found.conflict is not None:
            result.refused = found.conflict.reason
            return
        fields = self._fields(item, result)
        known = found.known
        if known is None and not item.create:
            return
        if known is None:
            contact = self._create(item, fields)
            index.put(self._known(contact, item.keys))
            result.created = True
        elif known.planned is not None:
            contact = known.planned
            self._apply(contact, item, fields, result)
        else:
            contact = self.existing[known.pk]
            self._apply(contact, item, fields, result)
            if item.keys.external_id and known.id_in(self.source) is None:
                self.ids_added.append((contact, self.source, item.keys.external_id))
                known.ids[self.source] = item.keys.external_id
        self.results.append((contact, result))

    def _fields(self, item: PersonWrite, result: PersonWritten) -> dict[str, Any]:
        fields = dict(item.fields)
        for name, column in _FOREIGN_KEYS.items():
            if name in fields:
                related = fields.pop(name)
                fields[column] = related.pk if related is not None else None
        if fields.get("phone"):
            try:  # read once here (the identity keys' reading, cached), stored as read
                fields["phone"] = phone_e164(str(fields["phone"]))
            except ContactsError as error:
                result.problems.append(f"phone: {error}")
                del fields["phone"]
        if "country" in fields and not fields["country"]:
            del fields["country"]  # a contact always has a country: an empty one keeps Cue's
        try:
            if fields.get("country"):
                fields["country"] = country_normalize(fields["country"])
            if fields.get("region"):
                fields["region"] = region_normalize(fields["region"], fields.get("country") or "US")
        except ContactsError as error:  # a place Cue cannot read is left out, not the person
            result.problems.append(f"region/country: {error}")
            fields.pop("region", None)
            fields.pop("country", None)
        if item.lifecycle_stage is not None and item.lifecycle_stage not in self.stages:
            result.problems.append(f"lifecycle stage {item.lifecycle_stage!r} is not one of Cue's.")
            item.lifecycle_stage = None
        return fields

    def _create(self, item: PersonWrite, fields: dict[str, Any]) -> _NewContact:
        contact = _NewContact(self.new_values)
        for name, value in fields.items():
            setattr(contact, name, _blank(name, value))
        contact.attributes = attributes_merge({}, item.attributes)
        if item.lifecycle_stage:
            contact.lifecycle_stage = item.lifecycle_stage
            contact.lifecycle_stage_changed_at = item.stage_changed_at
        self.new.append(contact)
        if item.keys.external_id:
            self.new_ids.append((contact, self.source, item.keys.external_id))
        return contact

    def _known(self, contact: _NewContact, keys: ContactKeys) -> KnownContact:
        known = KnownContact(None, None, keys.email or "", keys.phone or "", contact)
        if keys.external_id:
            known.ids[self.source] = keys.external_id
        return known

    def _apply(
        self, contact: Contact, item: PersonWrite, fields: dict, result: PersonWritten
    ) -> None:
        before = {name: str(getattr(contact, name) or "") for name in ADDRESS_FIELDS}
        for name, value in fields.items():
            value = _blank(name, value)
            if str(getattr(contact, name) or "") != str(value or ""):
                setattr(contact, name, value)
                result.changed.append(name)
        attributes = attributes_merge(contact.attributes, item.attributes)
        if attributes != (contact.attributes or {}):
            contact.attributes = attributes
            result.changed.append("attributes")
        self._stage_apply(contact, item, result)
        if not result.changed or contact.pk is None:
            return
        self.changed[contact.pk] = contact
        self.changed_fields.update(result.changed)
        if any(name in result.changed for name in ADDRESS_FIELDS):
            self.addresses_before.setdefault(contact.pk, before)

    def _stage_apply(self, contact: Contact, item: PersonWrite, result: PersonWritten) -> None:
        stage, at = item.lifecycle_stage, item.stage_changed_at
        if not stage or stage == contact.lifecycle_stage:
            return
        current_at = contact.lifecycle_stage_changed_at
        at = at or timezone.now()
        if contact.pk is not None:
            self.stage_events.append((contact, contact.lifecycle_stage, stage, at))
        if current_at is not None and at < current_at:
            return  # older than the stage it has: history (the event above), not current
        contact.lifecycle_stage = stage
        contact.lifecycle_stage_changed_at = at
        result.changed += ["lifecycle_stage", "lifecycle_stage_changed_at"]

    def save(self, *, reason: str, event_source: str) -> None:
        actor = system_user().pk if self.new or self.changed else None
        history = {"reason": reason, "user_id": actor, "at": self.now}
        if self.new:
            self._new_insert(history)
        if self.changed:
            self._changed_update(history)
        self._ids_insert()
        for pk, before in self.addresses_before.items():
            contact_addresses_changed(self.changed[pk], before)
        self._stage_events_record(event_source)
        for contact, result in self.results:
            result.contact_id = contact.pk

    def _new_insert(self, history: dict) -> None:
        ids = rows_insert(Contact, _columns(), [contact.row() for contact in self.new])
        for contact, pk in zip(self.new, ids, strict=True):
            contact.pk = pk
        history_rows_copy(Contact, ids, history_type="+", **history)

    def _changed_update(self, history: dict) -> None:
        for contact in self.changed.values():
            contact.updated_at = self.now
        changed = list(self.changed.values())
        Contact.objects.bulk_update(changed, sorted(self.changed_fields | {"updated_at"}))
        history_rows_copy(Contact, list(self.changed), history_type="~", **history)

    def _ids_insert(self) -> None:
        """The people's ids in the source: of the new ones, and of known ones that had none."""
        rows = [
            (contact.pk, source, value, self.now)
            for contact, source, value in [*self.new_ids, *self.ids_added]
        ]
        rows_insert(ContactExternalId, ("contact_id", "source", "value", "created_at"), rows)

    def _stage_events_record(self, event_source: str) -> None:
        items = [
            EventInput(
                ContactId(contact.pk),
                EventType.LIFECYCLE_STAGE_CHANGED,
                at,
                f"contact:{contact.pk}:lifecycle:{to_stage}:{at.isoformat()}",
                {"from": from_stage, "to": to_stage},
                event_source,
            )
            for contact, from_stage, to_stage, at in self.stage_events
        ]
        if items:
            record_events(items)


def _blank(name: str, value: Any) -> Any:
    """None clears a field: text fields hold "" for none."""
    if value is not None:
        return value
    return None if name in ("owner", "company", "owner_id", "company_id") else ""
