from dataclasses import dataclass

from django.db.models import QuerySet

from apps.accounts.roles import ADMIN, COMPLIANCE
from apps.consent.models import (
    Channel,
    ConsentRecord,
    ConsentState,
    ConsentStatus,
    Suppression,
)
from apps.consent.services import addresses_same, consent_given_for, consent_status_after
from apps.contacts.models import Contact
from apps.contacts.phones import phone_text


def consent_status(*, contact: Contact, channel: str, purpose: str) -> str:
    state = ConsentState.objects.filter(contact=contact, channel=channel, purpose=purpose).first()
    return state.status if state else ConsentStatus.NONE


@dataclass(frozen=True)
class AddressConsent:
    status: str
    given_for: str | None  # the address an opt-in (or pending one) was given for
    latest: ConsentRecord | None = None  # the newest ledger row the status rests on


def consent_for_address(*, contact: Contact, channel: str, purpose: str, address: str) -> str:
    """The contact's consent for messages to `address`, replayed from the ledger itself —
    never from the state row, which is a copy that could be edited. Consent given for
    another address (the contact's old phone number) is no consent for this one."""
    found = consent_of_ledger(contact=contact, channel=channel, purpose=purpose)
    if found.given_for is not None and not addresses_same(found.given_for, address, channel):
        return ConsentStatus.NONE
    return found.status


def consent_of_ledger(*, contact: Contact, channel: str, purpose: str) -> AddressConsent:
    """The key's status by replaying its ledger rows (one indexed query)."""
    records = list(
        ConsentRecord.objects.of_contact(contact, channel)
        .filter(purpose=purpose)
        .select_related("form")
        .order_by("occurred_at", "id")
    )
    status, _ = consent_status_after(records)
    return AddressConsent(status, consent_given_for(records), records[-1] if records else None)


def consents_of_ledger(
    *, contacts: list[Contact], channel: str, purpose: str
) -> dict[int, AddressConsent]:
    """consent_of_ledger for many contacts in one query (the batch send gate), by contact id:
    the same rows `of_contact` picks, replayed the same way."""
    by_contact: dict[int, list[ConsentRecord]] = {contact.pk: [] for contact in contacts}
    current = {contact.pk: _current_address(contact, channel) for contact in contacts}
    rows = ConsentRecord.objects.filter(
        contact_id__in=list(by_contact), channel=channel, purpose=purpose
    ).select_related("form")
    for record in rows.order_by("occurred_at", "id"):
        address = current[record.contact_id]
        if record.merged_from is None or (
            address and (record.address or "").casefold() == address.casefold()
        ):
            by_contact[record.contact_id].append(record)
    return {
        pk: AddressConsent(
            consent_status_after(records)[0],
            consent_given_for(records),
            records[-1] if records else None,
        )
        for pk, records in by_contact.items()
    }


def _current_address(contact: Contact, channel: str) -> str:
    return phone_text(contact.phone) if channel == Channel.SMS else (contact.email or "")


def consent_ledger(*, contact: Contact) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(contact=contact)
        .select_related("disclosure", "form", "actor")
        .order_by("occurred_at", "id")
    )


def contacts_with_consent(*, channel: str, purpose: str, status: str = ConsentStatus.OPTED_IN):
    """A queryset of contacts whose current consent has this status (set-based)."""
    return Contact.objects.filter(
        consent_states__channel=channel,
        consent_states__purpose=purpose,
        consent_states__status=status,
    )


def address_is_suppressed(*, address: str, channel: str = Channel.SMS) -> bool:
    return Suppression.objects.of_address(address, channel).exists()


# Who may see the evidence that identifies a device (IP address, user agent): Compliance
# and Admin, in the API and the admin alike. Everyone else who reads the ledger sees that
# evidence exists, not what it is.
EVIDENCE_READERS = frozenset({COMPLIANCE, ADMIN})
DEVICE_EVIDENCE = ("ip_address", "user_agent")


def consent_device_evidence_visible(user) -> bool:
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=EVIDENCE_READERS).exists()
