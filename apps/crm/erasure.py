"""The crm app's parts of a data-subject request (registered in ready()).

What Cue owes a CRM about the person (outbox rows: message bodies, replies) keeps its row
but loses the person's words and addresses; a CRM record kept with a sync error loses the
record; the consent flags read from the person's CRM records go. The CRM itself holds
its own copy: erasing there is the CRM's own request.
"""

from apps.contacts.erasure.registry import ErasureContext, ErasurePart, erasure_part_register
from apps.contacts.erasure.rows import rows_export, rows_scrub
from apps.contacts.erasure.traces import PersonTraces
from apps.contacts.models import Contact, ContactExternalId
from apps.crm.models import ConsentFlag, OutboxItem, RecordError, System


def _crm_ids(contact: Contact) -> list[str]:
    rows = ContactExternalId.objects.filter(contact=contact, source__in=System.values)
    return list(rows.values_list("value", flat=True))


def _traces(contact: Contact, traces: PersonTraces) -> None:
    """The person's CRM ids, read before contacts lets them go."""
    for value in _crm_ids(contact):
        traces.identifier_add(value)


def _outbox(contact: Contact):
    return OutboxItem.objects.filter(contact_id=contact.pk)


def _errors(ids: list[str]):
    return RecordError.objects.filter(record_id__in=ids, direction="in")


def _outbox_erase(contact: Contact, context: ErasureContext) -> int:
    return rows_scrub(_outbox(contact), ["payload", "last_error"], context.traces)


def _flags(ids: list[str]):
    return ConsentFlag.objects.filter(record_id__in=ids)


def _records_export(contact: Contact) -> list[dict]:
    ids = _crm_ids(contact)
    return rows_export(_errors(ids)) + [{"consent_flag": row} for row in rows_export(_flags(ids))]


def _records_erase(contact: Contact, context: ErasureContext) -> int:
    """The CRM's id named her too: an error row keeps only that it happened."""
    ids = [*_crm_ids(contact), *context.traces.identifiers]
    scrubbed = 0
    for error in _errors(ids):
        scrubbed += RecordError.objects.filter(pk=error.pk).update(
            record={}, error="[erased with the person]", record_id=f"erased-{error.pk}"
        )
    deleted, _ = _flags(ids).delete()
    return scrubbed + deleted


def crm_erasure_parts_register() -> None:
    erasure_part_register(
        "crm.outbox",
        ErasurePart(
            "What Cue owed a CRM about them (tasks, SMS activity, consent changes)",
            lambda c: rows_export(_outbox(c)),
            lambda c: _outbox(c).count(),
            _outbox_erase,
        ),
    )
    erasure_part_register(
        "crm.records",
        ErasurePart(
            "CRM records kept with a sync error, and the consent flags read from them",
            _records_export,
            lambda c: _errors(_crm_ids(c)).count() + _flags(_crm_ids(c)).count(),
            _records_erase,
            traces=_traces,
        ),
    )
