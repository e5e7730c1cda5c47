"""identify, alias and group: who a Segment user is, through contacts' own services.

A userId is the contact's "segment" source id (ContactExternalId), a key of its own: the
same text as another contact's API external id names a different contact. An anonymousId
is kept (AnonymousId) and names the contact made for it, until an identify or alias with a
userId links it to a known contact.
"""

from dataclasses import replace

from django.db import IntegrityError, transaction

from apps.contacts.external_ids import external_id_set
from apps.contacts.identity import contact_keys, identity_contact
from apps.contacts.merge import contact_merge
from apps.contacts.models import Company, Contact, ContactExternalId, ExternalIdSource
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.services import company_upsert, contact_update, contact_upsert
from apps.segment_intake.messages import Rejected, SegmentMessage
from apps.segment_intake.models import AnonymousId
from apps.segment_intake.traits import (
    company_of_traits,
    traits_attributes,
    traits_contact_fields,
)

SOURCE = "segment"
ID_SOURCE = ExternalIdSource.SEGMENT


def identify_store(message: SegmentMessage) -> Contact:
    """The traits on the contact the message names, made if it is new."""
    fields = traits_contact_fields(message.traits)
    company_name, company_id = company_of_traits(message.traits)
    if company_name:
        fields["company"] = company_upsert(name=company_name, external_id=company_id)
    attributes = traits_attributes(message.traits)
    if attributes:
        fields["attributes"] = attributes
    contact = _identified(message, fields)
    if contact is None:
        contact = contact_upsert(fields={**fields, "source": SOURCE}).contact
    else:
        _changes_save(contact, fields)
    if message.user_id:
        external_id_set(contact=contact, source=ID_SOURCE, value=message.user_id)
    if message.anonymous_id:
        _anonymous_link(message.anonymous_id, contact)
    return contact


def alias_store(message: SegmentMessage) -> None:
    """`previousId` (the anonymousId a user had) now names the contact of `userId`."""
    previous = message.raw.get("previousId")
    if isinstance(previous, int) and not isinstance(previous, bool):
        previous = str(previous)
    if not isinstance(previous, str) or not previous.strip() or len(previous) > 200:
        raise Rejected("An alias call needs previousId: a string of 1–200 characters.")
    if not message.user_id:
        raise Rejected("An alias call needs the userId that previousId becomes.")
    message.anonymous_id, message.traits = previous.strip(), {}
    identify_store(message)


def group_store(message: SegmentMessage) -> None:
    """The group is a company (its groupId the company's external id); the contact joins it."""
    group_id = message.raw.get("groupId")
    if isinstance(group_id, bool) or not isinstance(group_id, str | int) or not str(group_id):
        raise Rejected("A group call needs its groupId.")
    group_id = str(group_id).strip()[:100]
    name = message.traits.get("name")
    if not isinstance(name, str) or not name.strip():
        known = Company.objects.filter(external_id=group_id).values_list("name", flat=True)
        name = known.first() or group_id
    company = company_upsert(name=name.strip()[:200], external_id=group_id)
    contact = _identified(message, {}) or identify_store(replace(message, traits={}))
    _changes_save(contact, {"company": company})


PROFILE_HANDLERS = {"identify": identify_store, "alias": alias_store, "group": group_store}


def anonymous_contact_ids(anonymous_ids: set[str], *, source: str) -> dict[str, int]:
    """{anonymousId: contact id}, a contact made for each one not seen before."""
    known = dict(
        AnonymousId.objects.filter(anonymous_id__in=anonymous_ids).values_list(
            "anonymous_id", "contact_id"
        )
    )
    for anonymous_id in anonymous_ids - known.keys():
        known[anonymous_id] = _anonymous_contact(anonymous_id, source).pk
    return known


def _anonymous_contact(anonymous_id: str, source: str) -> Contact:
    try:
        with transaction.atomic():
            contact = contact_upsert(fields={"source": source}).contact
            AnonymousId.objects.create(anonymous_id=anonymous_id, contact=contact)
            return contact
    except IntegrityError:  # another request made it first: theirs stands, ours is undone
        return AnonymousId.objects.select_related("contact").get(anonymous_id=anonymous_id).contact


def _identified(message: SegmentMessage, fields: dict) -> Contact | None:
    """The existing contact the message names: by userId; else the anonymousId's contact,
    when it has no other external id; else the one the traits' email or phone names."""
    alias = None
    if message.anonymous_id:
        alias = AnonymousId.objects.filter(anonymous_id=message.anonymous_id).first()
    if message.user_id:
        found = identity_contact(contact_keys(external_id=message.user_id, source=ID_SOURCE))
        if found:
            if alias and alias.contact_id != found.pk and _made_for_anonymous(alias.contact):
                _anonymous_merge(found, alias.contact, message)
            return found
    if alias and _user_id_of(alias.contact) in (None, message.user_id):
        return alias.contact
    found = identity_contact(contact_keys(email=fields.get("email"), phone=fields.get("phone")))
    theirs = _user_id_of(found) if found else None
    if found and message.user_id and theirs not in (None, message.user_id):
        raise Rejected(
            "The email or phone in traits belongs to a contact whose Segment userId is"
            f" {theirs!r}, not this userId."
        )
    return found


def _user_id_of(contact: Contact) -> str | None:
    rows = ContactExternalId.objects.filter(contact=contact, source=ID_SOURCE)
    return rows.values_list("value", flat=True).first()


def _made_for_anonymous(contact: Contact) -> bool:
    """Whether Cue made this contact for an anonymousId (and no one has named it since). Only
    such a contact is merged into the user it turns out to be; a contact from anywhere else
    is never merged without a person deciding (the alias is moved, the contact stays)."""
    if contact.external_id is not None or contact.source != SOURCE:
        return False
    return not ContactExternalId.objects.filter(contact=contact).exists()


def _anonymous_merge(known: Contact, anonymous: Contact, message: SegmentMessage) -> None:
    """The contact made for an anonymousId is the known user's: its events, consent and the
    rest move to the known contact (the merge service's rules), and it is removed."""
    reason = (
        f"Segment {message.type} {message.message_id}: anonymousId {message.anonymous_id}"
        f" is userId {message.user_id}"
    )
    contact_merge(survivor=known, duplicate=anonymous, actor=None, reason=reason)


def _changes_save(contact: Contact, fields: dict) -> None:
    """Saves only what differs, so a repeated identify writes nothing (and no history)."""
    fields = _place_normalized(contact, fields)
    changed = {name: value for name, value in fields.items() if _differs(contact, name, value)}
    if changed:
        contact_update(contact=contact, fields=changed)


def _place_normalized(contact: Contact, fields: dict) -> dict:
    """Country and region as stored ("Florida" is FL), so that the same place is no change."""
    if "country" not in fields and "region" not in fields:
        return fields
    fields = dict(fields)
    if fields.get("country"):
        fields["country"] = country_normalize(fields["country"])
    if fields.get("region"):
        fields["region"] = region_normalize(
            fields["region"], fields.get("country") or contact.country
        )
    return fields


def _differs(contact: Contact, name: str, value) -> bool:
    if name == "company":
        return contact.company_id != value.pk
    if name == "email":
        return contact.email.lower() != value.lower()
    if name == "attributes":
        return any(contact.attributes.get(key) != each for key, each in value.items())
    return str(getattr(contact, name) or "") != str(value)


def _anonymous_link(anonymous_id: str, contact: Contact) -> None:
    """anonymousId → contact. A link to another contact moves to this one; the events
    already stored stay on the other contact."""
    updated = AnonymousId.objects.filter(anonymous_id=anonymous_id).exclude(contact=contact)
    if updated.update(contact=contact):
        return
    try:
        with transaction.atomic():
            AnonymousId.objects.get_or_create(
                anonymous_id=anonymous_id, defaults={"contact": contact}
            )
    except IntegrityError:
        AnonymousId.objects.filter(anonymous_id=anonymous_id).update(contact=contact)
