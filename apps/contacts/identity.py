"""Which contact do these keys name? The one answer, for every intake path.

The events API, the contacts API, CSV import, the hosted opt-in form and the Segment
intake all ask here. The rules:

- Keys: the contact's id, an external id (a system's own, as given, with the system it is
  from: `source`, "api" unless said), an email (trimmed and lower-cased; the database
  compares it case-insensitively) and a phone (E.164). An external id names a contact only
  within its source: Segment's userId "42" and the API's external id "42" are two keys.
  A caller that holds ids from several sources at once (an import row with an "api" and a
  "hubspot" column) gives the others as `other_ids`; each is a key like the first.
- Look-up is set-based: one query per kind of key for a whole batch (`IdentityIndex.load`,
  `identity_resolve_many`), never a query per item.
- Conflicts are refused, never merged: two keys naming two different contacts, or a key
  naming a contact whose own external id differs from the one given, is a `Conflict`
  whose reason names both. What the caller does with it is the caller's (the API refuses
  the item, an import rejects the row); no caller picks one of the two.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.db import connection

from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, ExternalIdSource
from apps.contacts.nanp import nanp_e164

KEY_KINDS = ("id", "external_id", "email", "phone")  # strongest first
KEY_NOUNS = {"id": "id", "external_id": "external id", "email": "email", "phone": "phone"}
API = ExternalIdSource.API.value
PHONE_INVALID = "Enter a valid phone number, e.g. +14155550123."


@dataclass(frozen=True, slots=True)
class ContactKeys:
    """How something outside names a contact; build it with `contact_keys` (normalised)."""

    id: int | None = None
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    source: str = ExternalIdSource.API  # whose id external_id is
    # Ids in further sources, as (source, value) pairs: each names the contact too.
    other_ids: tuple[tuple[str, str], ...] = ()
    # `filed()`'s answer, kept: a batch's index asks it of each keys twice (load, resolve).
    _filed: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def given(self) -> list[tuple[str, object]]:
        """(kind, value) for each key given, strongest first; an id of `other_ids` is an
        external_id whose value is its (source, value) pair."""
        given = []
        if self.id:
            given.append(("id", self.id))
        if self.external_id:
            given.append(("external_id", self.external_id))
        if self.email:
            given.append(("email", self.email))
        if self.phone:
            given.append(("phone", self.phone))
        if self.other_ids:
            at = next((n for n, (kind, _) in enumerate(given) if kind in ("email", "phone")), None)
            at = len(given) if at is None else at
            given[at:at] = [("external_id", pair) for pair in self.other_ids]
        return given

    def filed(self) -> tuple[tuple[str, object], ...]:
        """(kind, value) for each key given, as the index files it (`lookup`)."""
        if self._filed is None:
            filed = tuple((kind, self.lookup(kind, value)) for kind, value in self.given())
            object.__setattr__(self, "_filed", filed)  # frozen: only this cache is ever set
        return self._filed

    def describe(self) -> str:
        return ", ".join(self.key_text(kind, value) for kind, value in self.given())

    def lookup(self, kind: str, value: object) -> object:
        """How the index files a key: an external id with its source."""
        if kind != "external_id" or isinstance(value, tuple):
            return value
        return (self.source, value)

    def key_text(self, kind: str, value: object) -> str:
        """A key as a person reads it: `hubspot id '123'`, `email 'a@example.com'`."""
        source, value = self.lookup(kind, value) if kind == "external_id" else (None, value)
        return f"{_noun(kind, source)} {value!r}"

    def external_ids(self) -> list[tuple[str, str]]:
        """Every (source, value) id given, the first source's first."""
        first = [(self.source, self.external_id)] if self.external_id else []
        return [*first, *self.other_ids]


def contact_keys(
    *,
    id=None,
    external_id=None,
    email=None,
    phone=None,
    region: str | None = None,
    source: str = ExternalIdSource.API,
    other_ids: dict[str, str] | None = None,
) -> ContactKeys:
    """Normalised keys. A phone without a country code is read in `region` (default: the
    configured one); one that is no valid number raises ContactsError on field "phone".
    `source`: the system whose id `external_id` is; `other_ids`: {source: id} in others."""
    others = tuple(
        (name, text)
        for name, value in (other_ids or {}).items()
        if name != source and value and (text := str(value).strip())
    )
    return ContactKeys(
        id=id or None,
        external_id=(str(external_id).strip() or None) if external_id else None,
        email=email_normalize(email) or None if email else None,
        phone=phone_e164(str(phone), region) if phone else None,
        source=source,
        other_ids=others,
    )


def email_normalize(email: str) -> str:
    return email.strip().lower()


def phone_e164(value: str, region: str | None = None) -> str:
    """The number in E.164 form; raises ContactsError (a ValueError too) when invalid."""
    e164 = _phone_e164(value, region or settings.PHONENUMBER_DEFAULT_REGION)
    if e164 is None:
        raise InvalidPhone(PHONE_INVALID, field="phone")
    return e164


class InvalidPhone(ContactsError, ValueError):
    """Raised by phone_e164; a ValueError so that form and serializer fields can catch it."""


@lru_cache(maxsize=8192)  # validating a number costs ~50 µs; batches repeat numbers
def _phone_e164(value: str, region: str) -> str | None:
    read = nanp_e164(value, region)  # the common North American forms, the same answer
    if read is not False:
        return read
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(eq=False, slots=True)
class KnownContact:
    """A contact as identity knows it: its keys, and its id, or (planned by a batch and
    not yet saved) the unsaved Contact itself. Two of these are one contact only if they
    are the same object: the index keeps one per contact."""

    pk: int | None
    external_id: str | None
    email: str
    phone: str
    planned: Contact | None = None
    # Its ids in sources other than "api", as far as a batch asked: {source: value}.
    ids: dict[str, str] = field(default_factory=dict)

    def id_in(self, source: str) -> str | None:
        return self.external_id if source == ExternalIdSource.API else self.ids.get(source)

    @classmethod
    def of(cls, contact: Contact) -> "KnownContact":
        phone = getattr(contact.phone, "as_e164", contact.phone) or ""
        email = email_normalize(contact.email or "")
        return cls(contact.pk, contact.external_id or None, email, str(phone))

    def label(self) -> str:
        return f"contact #{self.pk}" if self.pk else "a new contact earlier in this batch"


@dataclass(frozen=True, slots=True)
class Conflict:
    """The keys name two contacts; `reason` names both, `contact_ids` has their ids."""

    reason: str
    contact_ids: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one set of keys names: one known contact, none, or a conflict."""

    keys: ContactKeys
    known: KnownContact | None = None
    conflict: Conflict | None = None

    @property
    def contact_id(self) -> int | None:
        return self.known.pk if self.known else None


class IdentityIndex:
    """The contacts a batch's keys name, by each key, loaded with one query per kind of
    key. Callers keep it in step as they create or change contacts (`put`), so later items
    of the same batch see what earlier ones did.

    It files its contacts only under the kinds of key the batch gave (a batch naming its
    contacts by external id alone needs no email or phone look-up), so it answers only
    for keys of those kinds: the only ones its callers ask about."""

    def __init__(self, kinds: Iterable[str] = KEY_KINDS) -> None:
        self._by: dict[str, dict[object, KnownContact]] = {kind: {} for kind in kinds}
        self._keys_of: dict[int, KnownContact] = {}

    @classmethod
    def load(cls, keys_list: Iterable[ContactKeys]) -> "IdentityIndex":
        wanted: dict[str, set] = {kind: set() for kind in KEY_KINDS}
        for keys in keys_list:
            for kind, value in keys.filed():
                wanted[kind].add(value)
        index = cls(kind for kind, values in wanted.items() if values)
        api_ids = {value for source, value in wanted["external_id"] if source == API}
        other_ids = wanted["external_id"] - {(API, value) for value in api_ids}
        wanted["external_id"] = api_ids
        keys_of = index._keys_of
        for kind, values in wanted.items():
            if values:
                for pk, external_id, email, phone in _contacts_by(kind, values):
                    if pk not in keys_of:
                        index._add(KnownContact(pk, external_id, email.lower(), phone))
        if other_ids:
            # Named by ids in other sources alone, the contacts are asked nothing else.
            alone = not any(wanted.values())
            index._source_ids_load(other_ids, keys_read=not alone)
        return index

    def _source_ids_load(self, wanted: set[tuple[str, str]], *, keys_read: bool) -> None:
        """Ids in sources other than "api": the contacts they name, and the ids in those
        sources of every contact the batch knows (to see an id that differs).

        Without `keys_read` the contacts' own keys (api id, email, phone) are not read:
        a batch that names every contact by such ids alone is filed under them alone, and
        no keys of it can meet a contact's other keys (a Segment batch of userIds)."""
        sources = {source for source, _ in wanted}
        found = _contacts_by_source_id(wanted) if keys_read else _ids_by_source_id(wanted)
        for pk, external_id, email, phone, source, value in found:
            if pk not in self._keys_of:
                self._add(KnownContact(pk, external_id, email.lower(), phone))
            self._source_id_add(pk, source, value)
        # A contact has one id per source, so one found by its id there is read already:
        # a batch naming its contacts by Segment userIds alone needs no second query.
        unread = [pk for pk, known in self._keys_of.items() if not sources <= known.ids.keys()]
        for pk, source, value in _source_ids_of(unread, sources) if unread else ():
            self._source_id_add(pk, source, value)

    def _source_id_add(self, pk: int, source: str, value: str) -> None:
        known = self._keys_of[pk]
        known.ids[source] = value
        self._by["external_id"][(source, value)] = known

    def put(self, known: KnownContact) -> None:
        """Adds a contact, or replaces what was known of it (its old keys are dropped)."""
        old = self._keys_of.pop(known.pk, None) if known.pk else None
        if old is not None:
            for kind, value in _keys_of(old):
                filed = self._by.get(kind)
                if filed is not None and filed.get(value) is old:
                    del filed[value]
        self._add(known)

    def _add(self, known: KnownContact) -> None:
        by = self._by
        if known.pk:
            self._keys_of[known.pk] = known
            if "id" in by:
                by["id"][known.pk] = known
        if "external_id" in by:
            external = by["external_id"]
            if known.external_id:
                external[(API, known.external_id)] = known
            for source_id in known.ids.items():
                external[source_id] = known
        if known.email and "email" in by:
            by["email"][known.email] = known
        if known.phone and "phone" in by:
            by["phone"][known.phone] = known

    def contact_ids(self) -> list[int]:
        return list(self._keys_of)

    def resolve(self, keys: ContactKeys) -> Resolution:
        filed = keys.filed()
        by = self._by
        if len(filed) == 1:  # most events name their contact by one key: no conflict possible
            kind, value = filed[0]
            return Resolution(keys, by.get(kind, _NOTHING).get(value))
        matches = [
            (kind, value, by.get(kind, _NOTHING).get(lookup))
            for (kind, value), (_, lookup) in zip(keys.given(), filed, strict=True)
        ]
        found = [(kind, value, known) for kind, value, known in matches if known is not None]
        if not found:
            return Resolution(keys)
        known = found[0][2]
        if any(other is not known for _, _, other in found):
            return Resolution(keys, conflict=_two_contacts(found, keys))
        for source, value in keys.external_ids():
            theirs = known.id_in(source)
            if theirs and theirs != value:
                conflict = _other_external_id(found[0], keys, source, value, theirs)
                return Resolution(keys, conflict=conflict)
        return Resolution(keys, known)


_NOTHING: dict = {}  # what the index knows under a kind of key it does not file


def identity_resolve_many(keys_list: Sequence[ContactKeys]) -> list[Resolution]:
    """One Resolution per keys, in order: the whole batch in one query per kind of key."""
    index = IdentityIndex.load(keys_list)
    return [index.resolve(keys) for keys in keys_list]


def identity_resolve(keys: ContactKeys) -> Resolution:
    return identity_resolve_many([keys])[0]


class IdentityConflict(ContactsError):
    """Raised by `identity_contact` when the keys name two contacts; `.conflict` says which."""

    def __init__(self, conflict: Conflict):
        super().__init__(conflict.reason, code="conflict")
        self.conflict = conflict


def identity_contact(keys: ContactKeys) -> Contact | None:
    """The Contact these keys name, or None; raises IdentityConflict when they name two."""
    found = identity_resolve(keys)
    if found.conflict is not None:
        raise IdentityConflict(found.conflict)
    return Contact.objects.get(pk=found.contact_id) if found.known else None


def _keys_of(known: KnownContact) -> list[tuple[str, object]]:
    """How the index files the contact: its external ids with their sources."""
    external_ids = [(API, known.external_id), *known.ids.items()]
    keys = [("id", known.pk), ("email", known.email), ("phone", known.phone)]
    keys += [("external_id", (source, value)) for source, value in external_ids if value]
    return [(kind, value) for kind, value in keys if value]


def _noun(kind: str, source: str | None) -> str:
    if kind == "external_id" and source not in (API, None):
        return f"{source} id"
    return KEY_NOUNS[kind]


def _two_contacts(found: list[tuple[str, object, KnownContact]], keys: ContactKeys) -> Conflict:
    detail = ", ".join(
        f"{keys.key_text(kind, value)} matches {known.label()}" for kind, value, known in found
    )
    ids = tuple(dict.fromkeys(known.pk for _, _, known in found))
    return Conflict(f"These keys name different contacts: {detail}. They are not merged.", ids)


def _other_external_id(
    match: tuple[str, object, KnownContact],
    keys: ContactKeys,
    source: str,
    given: str,
    theirs: str,
) -> Conflict:
    kind, value, known = match
    return Conflict(
        f"{keys.key_text(kind, value)[:1].upper()}{keys.key_text(kind, value)[1:]} matches"
        f" {known.label()}, whose {_noun('external_id', source)} is {theirs!r}, not"
        f" {given!r}. They are not merged.",
        (known.pk,),
    )


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


# On PostgreSQL a batch's keys are looked up one index probe each, the subquery fenced
# (OFFSET 0) so the planner cannot turn the probes back into one test per row: for a
# page's 2,000 keys it reckons reading the whole table cheaper than 2,000 probes once the
# table holds some 100,000 contacts (with or without statistics), and every page of a
# full sync then read every contact stored before it (200 ms a page against 9 ms).
_ONE_PROBE_EACH = "OFFSET 0"


def _contacts_by(kind: str, values: set) -> list[tuple]:
    """(id, external_id, email, phone) of the contacts whose `kind` is one of `values`."""
    if kind == "email":
        # SQLite's LOWER() folds ASCII only, Python's everything: ask for the spellings
        # either database could have stored ("Émile" is "Émile" to SQLite's LOWER), and
        # compare folded in Python.
        values = values | {_ascii_lower(value.upper()) for value in values}
    with connection.cursor() as cursor:
        cursor.execute(*_contacts_by_sql(kind, values))
        return cursor.fetchall()


def _contacts_by_sql(kind: str, values: set) -> tuple[str, list]:
    type_ = "bigint" if kind == "id" else "text"
    if connection.vendor == "postgresql":
        match = _CONTACT_MATCH[kind].format("= wanted.value")
        sql = (
            "SELECT c.id, c.external_id, c.email, c.phone"
            f" FROM unnest(%s::{type_}[]) AS wanted(value) CROSS JOIN LATERAL"
            f" (SELECT id, external_id, email, phone FROM contacts_contact WHERE {match}"
            f" {_ONE_PROBE_EACH}) AS c ORDER BY c.id DESC"
        )
        return sql, [list(values)]
    in_values, params = _one_of(values, type_)
    sql = (
        "SELECT id, external_id, email, phone FROM contacts_contact"
        f" WHERE {_CONTACT_MATCH[kind].format(in_values)}"
        " ORDER BY id DESC"  # Contact's own order: the oldest wins a shared key
    )
    return sql, params


def _contacts_by_source_id(wanted: set[tuple[str, str]]) -> list[tuple]:
    """(id, external_id, email, phone, source, value) of the contacts holding these
    (source, value) ids: one query, by the (source, value) unique index."""
    with connection.cursor() as cursor:
        cursor.execute(*_contacts_by_source_id_sql(wanted))
        return cursor.fetchall()


def _ids_by_source_id(wanted: set[tuple[str, str]]) -> list[tuple]:
    """As `_contacts_by_source_id`, the contacts' own keys left unread (None, "", "")."""
    with connection.cursor() as cursor:
        cursor.execute(*_contacts_by_source_id_sql(wanted, keys_read=False))
        return cursor.fetchall()


def _contacts_by_source_id_sql(
    wanted: set[tuple[str, str]], *, keys_read: bool = True
) -> tuple[str, list]:
    found = (
        "SELECT c.id, c.external_id, c.email, c.phone, x.source, x.value"
        " FROM contacts_contactexternalid x JOIN contacts_contact c ON c.id = x.contact_id"
        if keys_read
        else "SELECT x.contact_id AS id, NULL AS external_id, '' AS email, '' AS phone,"
        " x.source, x.value"
        " FROM contacts_contactexternalid x"
    )
    by_source: dict[str, list] = {}
    for source, value in wanted:
        by_source.setdefault(source, []).append(value)
    if connection.vendor == "postgresql":
        # One array of values per source, the source said once: a batch's ids mostly share
        # one source, and an array repeating it for every value cost as much to send and
        # read as the values themselves.
        each = " UNION ALL ".join(
            ["SELECT %s::text, value FROM unnest(%s::text[]) AS value"] * len(by_source)
        )
        sql = (
            f"SELECT found.* FROM ({each}) AS wanted(source, value)"
            f" CROSS JOIN LATERAL ({found} WHERE x.source = wanted.source"
            f" AND x.value = wanted.value {_ONE_PROBE_EACH}) AS found ORDER BY found.id DESC"
        )
        return sql, [param for pair in by_source.items() for param in pair]
    conditions, params = [], []
    for source, values in by_source.items():
        in_values, value_params = _one_of(values, "text")
        conditions.append(f"(x.source = %s AND x.value {in_values})")
        params += [source, *value_params]
    return f"{found} WHERE {' OR '.join(conditions)} ORDER BY 1 DESC", params


def _source_ids_of(contact_ids: list[int], sources: set[str]) -> list[tuple]:
    """(contact id, source, value) of these contacts' ids in these sources."""
    in_ids, id_params = _one_of(set(contact_ids), "bigint")
    in_sources, source_params = _one_of(sources, "text")
    sql = (
        "SELECT contact_id, source, value FROM contacts_contactexternalid"
        f" WHERE contact_id {in_ids} AND source {in_sources}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, id_params + source_params)
        return cursor.fetchall()


def _one_of(values: Collection, type_: str) -> tuple[str, list]:
    """SQL for "is one of these values": on PostgreSQL one array parameter, which costs
    less to send than a parameter per value."""
    if connection.vendor == "postgresql":
        return f"= ANY(%s::{type_}[])", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


def _ascii_lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    return "".join(char.lower() if char.isascii() else char for char in text)
