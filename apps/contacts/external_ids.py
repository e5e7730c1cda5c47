"""A contact's ids in the systems that know it: one per source (ContactExternalId).

The "api" source's id is also Contact.external_id, the field the REST API, CSV import and
the events API read and write; `external_id_api_sync` keeps its row the same as the column,
in the same transaction, wherever a service writes the column. Other sources (Segment's
userId, the CRM connectors) live only here.
"""

from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction

from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, ContactExternalId, ExternalIdSource


def external_id_api_sync(contact: Contact) -> None:
    """The contact's "api" row says what its external_id column says (none when empty)."""
    value = contact.external_id or None
    rows = ContactExternalId.objects.filter(contact=contact, source=ExternalIdSource.API)
    if value is None:
        rows.delete()
    elif not rows.filter(value=value).exists():
        rows.delete()
        ContactExternalId.objects.create(contact=contact, source=ExternalIdSource.API, value=value)


class ExternalIdsError(ContactsError):
    """An id refused, by source: answered as {"external_ids": {"hubspot": ["..."]}}."""

    def __init__(self, source: str, message: str, *, code: str = "invalid"):
        super().__init__(f"{source}: {message}", field="external_ids", code=code)
        self.errors = {source: [message]}

    def as_field_errors(self) -> dict:
        return {"external_ids": self.errors}


def external_ids_write(*, contact: Contact, ids: Mapping[str, str | None]) -> None:
    """Sets the contact's id in each source named, replacing the one it had there, or
    clears it (None). An id that already names another contact is refused with a reason
    naming both, never moved. The "api" id is the external_id column: the contact services
    write it, not this."""
    for source, value in ids.items():
        if source == ExternalIdSource.API:
            raise ExternalIdsError(source, "The api id is the contact's external_id.")
        if source not in ExternalIdSource.values:
            raise ExternalIdsError(source, external_id_source_unknown(source))
        mine = ContactExternalId.objects.filter(contact=contact, source=source)
        if value is None:
            mine.delete()
            continue
        value = value.strip() if isinstance(value, str) else ""
        if not value or len(value) > 100:
            raise ExternalIdsError(source, "Give an id of 1–100 characters, or null to clear it.")
        if mine.filter(value=value).exists():
            continue
        _owner_refuse(contact, source, value)
        mine.delete()
        try:
            with transaction.atomic():
                ContactExternalId.objects.create(contact=contact, source=source, value=value)
        except IntegrityError as error:  # taken in the meantime by another request
            _owner_refuse(contact, source, value)
            raise ExternalIdsError(source, "This id was taken; send it again.") from error


def external_id_source_unknown(source: object) -> str:
    """The message for a source Cue does not know, naming the ones it does."""
    return f"{source!r} is not a source; choose from {', '.join(ExternalIdSource.values)}."


def _owner_refuse(contact: Contact, source: str, value: str) -> None:
    owner = (
        ContactExternalId.objects.filter(source=source, value=value)
        .exclude(contact_id=contact.pk)
        .values_list("contact_id", flat=True)
        .first()
    )
    if owner is not None:
        raise ExternalIdsError(
            source,
            f"{source} id {value!r} already names contact #{owner}, not"
            f" {_label(contact)}. They are not merged.",
            code="conflict",
        )


def _label(contact: Contact) -> str:
    return f"contact #{contact.pk}" if contact.pk else "the new contact"


def external_ids_api_create(contacts: Iterable[Contact]) -> None:
    """The "api" rows of contacts just created in bulk: one statement."""
    ContactExternalId.objects.bulk_create(
        ContactExternalId(contact=contact, source=ExternalIdSource.API, value=contact.external_id)
        for contact in contacts
        if contact.external_id
    )


def external_ids_create(rows: Iterable[tuple[Contact, str, str]]) -> None:
    """(contact, source, value) rows of contacts just created in bulk: one statement."""
    ContactExternalId.objects.bulk_create(
        ContactExternalId(contact=contact, source=source, value=value)
        for contact, source, value in rows
    )


def external_id_set(*, contact: Contact, source: str, value: str) -> ContactExternalId:
    """Gives the contact its id in `source`. The "api" source is the external_id field:
    change it through the contact services. An id another contact has in the source, or a
    second id for a source the contact already has one in, is refused, never moved."""
    value = (value or "").strip()
    if source == ExternalIdSource.API:
        raise ContactsError("The api source's id is the contact's external_id.", field="source")
    if source not in ExternalIdSource.values:
        raise ContactsError(f"Unknown external id source {source!r}.", field="source")
    if not value or len(value) > 100:
        raise ContactsError("Give an id of 1–100 characters.", field="value")
    mine = ContactExternalId.objects.filter(contact=contact, source=source).first()
    if mine is not None:
        if mine.value == value:
            return mine
        raise ContactsError(
            f"Contact #{contact.pk} already has {source} id {mine.value!r}, not {value!r}.",
            field="value",
        )
    try:
        with transaction.atomic():
            return ContactExternalId.objects.create(contact=contact, source=source, value=value)
    except IntegrityError as error:
        owner = ContactExternalId.objects.filter(source=source, value=value).first()
        if owner is not None and owner.contact_id == contact.pk:
            return owner
        raise ContactsError(
            f"{source} id {value!r} belongs to another contact.", field="value", code="conflict"
        ) from error
