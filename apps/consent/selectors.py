from django.db.models import QuerySet

from apps.consent.models import (
    Channel,
    ConsentRecord,
    ConsentState,
    ConsentStatus,
    Suppression,
)
from apps.contacts.models import Contact


def consent_status(*, contact: Contact, channel: str, purpose: str) -> str:
    state = ConsentState.objects.filter(contact=contact, channel=channel, purpose=purpose).first()
    return state.status if state else ConsentStatus.NONE


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
    return Suppression.objects.filter(channel=channel, address=address).exists()
