"""Exporting and erasing a person's data: the parts of every app, run in order.

An export reads every part and records who asked, when and how many rows of each kind.
An erasure is one transaction: it locks the contact (dispatch locks it too, so a send's
gate check and the erasure never interleave), refuses while a message to the person is
in flight, marks the contact erased first (from then on the gate refuses every message to
it), then lets each part anonymise its rows, and records who, when, why and the counts.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.contacts.erasure.registry import ErasureContext, erasure_parts, traces_gather
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, DataSubjectRequest
from apps.core.text import text_storable

REASON_REQUIRED = "Say why this person's data is erased (e.g. their request and its date)."
REASON_NAMES_THE_PERSON = (
    "The reason is kept after the erasure: write it without the person's name, phone "
    "number, email or ids."
)


@dataclass(frozen=True)
class ContactExport:
    contact_id: int
    exported_at: datetime
    kinds: dict[str, list[dict]]  # part name -> rows
    labels: dict[str, str]  # part name -> what its rows are

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.kinds.items()}


@dataclass(frozen=True)
class ErasureResult:
    contact_id: int
    erased_at: datetime
    counts: dict[str, int]  # part label -> rows anonymised (or removed)


def contact_export(*, contact: Contact, actor, format: str) -> ContactExport:
    """Everything Cue holds about the person, part by part; the request is recorded with
    who, when and how many rows of each kind (never the rows)."""
    parts = erasure_parts()
    with transaction.atomic():
        kinds = {name: part.export(contact) for name, part in parts.items()}
        result = ContactExport(
            contact_id=contact.pk,
            exported_at=timezone.now(),
            kinds=kinds,
            labels={name: part.label for name, part in parts.items()},
        )
        _request_record(
            DataSubjectRequest.Kind.EXPORT, contact.pk, actor, "", result.counts, format=format
        )
    return result


def contact_erase_preview(*, contact: Contact) -> dict[str, int]:
    """{kind of rows: how many} the erasure would anonymise or remove; writes nothing."""
    return {part.label: part.count(contact) for part in erasure_parts().values()}


def contact_erase(*, contact: Contact, actor, reason: str) -> ErasureResult:
    """Anonymises the person in every part, in one transaction. ContactsError when the
    reason is missing or names the person, the contact is already erased, or a part
    refuses for now (a message to the person is being sent)."""
    reason = text_storable(reason or "").strip()
    if not reason:
        raise ContactsError(REASON_REQUIRED, field="reason", code="required")
    with transaction.atomic():
        contact = _erasable(contact.pk)
        traces = traces_gather(contact)
        if traces.mentions(reason):
            raise ContactsError(REASON_NAMES_THE_PERSON, field="reason")
        now = timezone.now()
        # First: from here on the gate refuses every message to the contact.
        Contact.objects.filter(pk=contact.pk).update(erased_at=now)
        context = ErasureContext(actor=actor, reason=reason, at=now, traces=traces)
        counts = {part.label: part.erase(contact, context) for part in erasure_parts().values()}
        _request_record(DataSubjectRequest.Kind.ERASURE, contact.pk, actor, reason, counts)
    return ErasureResult(contact_id=contact.pk, erased_at=now, counts=counts)


def _erasable(contact_id: int) -> Contact:
    """The contact, locked; refused when already erased or a part says not now."""
    contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None:
        raise ContactsError(f"Contact {contact_id} does not exist.", field="contact")
    if contact.erased_at is not None:
        raise ContactsError(
            f"This contact was already erased on {contact.erased_at:%Y-%m-%d %H:%M} UTC.",
            field="contact",
            code="already_erased",
        )
    for part in erasure_parts().values():
        refusal = part.refuse(contact) if part.refuse else None
        if refusal:
            raise ContactsError(refusal, field="contact", code="busy")
    return contact


def _request_record(kind, contact_id, actor, reason, counts, format="") -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        kind=kind,
        contact_id=contact_id,
        actor=actor,
        reason=reason,
        format=format,
        counts=counts,
        at=timezone.now(),
    )
