"""Writes to the consent ledger. Every change of consent is a new ledger row; the current
state is derived from the ledger in the same transaction."""

from dataclasses import dataclass, fields
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.consent.hooks import ConsentChange, consent_change_hook
from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentAttempt,
    ConsentDisclosure,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    OptInForm,
    Preference,
    Purpose,
    Suppression,
)
from apps.contacts.models import Contact
from apps.contacts.phones import phone_format_e164, phone_text
from apps.core.errors import CueError


class ConsentError(CueError):
    pass


@dataclass(frozen=True)
class Evidence:
    """What proves a consent change: who, where, and the exact words shown."""

    ip_address: str | None = None
    user_agent: str = ""
    page_url: str = ""
    disclosure: ConsentDisclosure | None = None
    disclosure_text: str = ""
    form: OptInForm | None = None
    actor: object | None = None
    inbound_message_sid: str = ""
    keyword: str = ""
    note: str = ""


def consent_status_after(records: list[ConsentRecord]) -> tuple[str, dict]:
    """Replays a key's ledger in time order; returns the status and its timestamps."""
    status, stamps = ConsentStatus.NONE, {}
    for record in sorted(records, key=lambda r: (r.occurred_at, r.pk or 0)):
        status, stamps = _apply(status, stamps, record)
    return status, stamps


def _apply(status: str, stamps: dict, record: ConsentRecord) -> tuple[str, dict]:
    at = record.occurred_at
    if record.action == ConsentAction.NEW_ADDRESS:
        # Consent given for the old address ends; an opt-out follows the person.
        return (status, stamps) if status == ConsentStatus.OPTED_OUT else (ConsentStatus.NONE, {})
    if record.action == ConsentAction.OPT_OUT:
        return ConsentStatus.OPTED_OUT, {**stamps, "opted_out_at": at}
    if record.action == ConsentAction.CONFIRM:
        if status != ConsentStatus.PENDING:
            return status, stamps
        return ConsentStatus.OPTED_IN, {**stamps, "confirmed_at": at}
    if status == ConsentStatus.OPTED_IN:
        # Already in: a new opt-in renews it but keeps the moment it was confirmed.
        return status, {**stamps, "opted_in_at": at}
    if _needs_confirmation(record):
        return ConsentStatus.PENDING, {**stamps, "opted_in_at": at, "confirmed_at": None}
    return ConsentStatus.OPTED_IN, {**stamps, "opted_in_at": at, "confirmed_at": at}


def _needs_confirmation(record: ConsentRecord) -> bool:
    """Web-form consent to marketing SMS waits for a YES reply when its form asks for it."""
    return (
        record.channel == Channel.SMS
        and record.purpose == Purpose.MARKETING
        and record.source == ConsentSource.WEB_FORM
        and (record.form is None or record.form.double_opt_in)
    )


def consent_record(
    *,
    contact: Contact,
    channel: str,
    purpose: str,
    action: str,
    source: str,
    occurred_at: datetime | None = None,
    address: str | None = None,
    evidence: Evidence | None = None,
) -> ConsentRecord:
    """Appends one ledger row and brings the current state in step with the ledger.

    An opt-in the consumer did not give (import, API, admin, a rep) after the address or
    the contact revoked consent is refused: the attempt is kept (`ConsentAttempt`) and
    ConsentError says why. The attempt outlives this function's rollback, not a caller's."""
    _choices_check(channel=channel, purpose=purpose, action=action, source=source)
    evidence = evidence or Evidence()
    with transaction.atomic():
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        address = address or _address_of(contact, channel)
        refusal = _resubscribe_refusal(contact, channel, purpose, action, source, address, evidence)
        if refusal is None:
            return _record_append(
                contact=contact, channel=channel, purpose=purpose, action=action, source=source,
                occurred_at=occurred_at, address=address, evidence=evidence,
            )  # fmt: skip
    code, reason = refusal
    ConsentAttempt.objects.create(
        contact=contact, address=address, channel=channel, purpose=purpose, action=action,
        source=source, reason_code=code, reason=reason[:300], actor=evidence.actor,
        note=evidence.note,
    )  # fmt: skip
    raise ConsentError(reason, field="action", code=code)


# Who may give consent back after a revocation: the consumer, proven by the hosted form's
# submission or by a keyword texted from the number (47 CFR 64.1200(a)(10): consent once
# revoked needs the called party's new consent, not the caller's say-so).
_CONSUMER_EVIDENCE = {
    ConsentSource.WEB_FORM: lambda evidence: evidence.form is not None,
    ConsentSource.KEYWORD: lambda evidence: bool(evidence.inbound_message_sid),
}


def _resubscribe_refusal(contact, channel, purpose, action, source, address, evidence):
    """(code, reason) when this opt-in would re-subscribe a revoked address without the
    consumer's own word; None otherwise."""
    if action not in (ConsentAction.OPT_IN, ConsentAction.CONFIRM):
        return None
    proven = _CONSUMER_EVIDENCE.get(source)
    if proven is not None and proven(evidence):
        return None
    revoked = address_revocation(address=address, channel=channel)
    if revoked is not None:
        return "revoked_address", (
            f"{address} revoked consent ({revoked.get_reason_display()}, "
            f"{revoked.created_at:%Y-%m-%d}); only its owner can opt back in, by texting "
            "START from it or through the opt-in form."
        )
    last_out = _last_opt_out(contact, channel, purpose)
    if last_out is not None:
        return "revoked_contact", (
            f"The contact opted out of {channel} {purpose} on {last_out.occurred_at:%Y-%m-%d} "
            f"({last_out.get_source_display()}); only they can opt back in, by texting START "
            "or through the opt-in form."
        )
    return None


def address_revocation(*, address: str, channel: str) -> Suppression | None:
    """The consumer's revocation in force for this address, if any."""
    try:
        address = address_normalize(address, channel)
    except ConsentError:
        return None
    return (
        Suppression.objects.of_address(address, channel)
        .filter(reason__in=Suppression.CONSUMER_REVOCATIONS)
        .first()
    )


def _last_opt_out(contact: Contact, channel: str, purpose: str) -> ConsentRecord | None:
    """The opt-out the key's ledger currently ends in, if it does."""
    records = list(
        ConsentRecord.objects.of_contact(contact, channel)
        .filter(purpose=purpose)
        .select_related("form")
        .order_by("occurred_at", "id")
    )
    status, _ = consent_status_after(records)
    if status != ConsentStatus.OPTED_OUT:
        return None
    return next(r for r in reversed(records) if r.action == ConsentAction.OPT_OUT)


def _record_append(
    *, contact, channel, purpose, action, source, occurred_at, address, evidence
) -> ConsentRecord:
    record = ConsentRecord.objects.create(
        contact=contact,
        channel=channel,
        purpose=purpose,
        action=action,
        source=source,
        occurred_at=occurred_at or timezone.now(),
        address=address,
        **{f.name: getattr(evidence, f.name) for f in fields(Evidence)},
    )
    before, state = _state_sync(contact, channel, purpose, cause=record)
    if state.status == ConsentStatus.PENDING and before != state.status:
        _confirmation_request(record)
    return record


CONSENT_PENDING_EVENT = "sms_consent_pending"


def _confirmation_request(record: ConsentRecord) -> None:
    """A pending opt-in asks for a YES: the event tells the send pipeline to ask."""
    from apps.contacts.events import record_event

    record_event(
        contact=record.contact,
        type=CONSENT_PENDING_EVENT,
        occurred_at=record.occurred_at,
        idempotency_key=f"consent:{record.pk}:pending",
        properties={"consent_record_id": record.pk, "form_id": record.form_id},
        source="consent",
    )


def _choices_check(**values: str) -> None:
    allowed = {
        "channel": Channel.values,
        "purpose": Purpose.values,
        "action": ConsentAction.values,
        "source": ConsentSource.values,
    }
    for name, value in values.items():
        if value not in allowed[name]:
            raise ConsentError(f"{value!r} is not one of {', '.join(allowed[name])}.", field=name)


def _address_of(contact: Contact, channel: str) -> str:
    address = phone_text(contact.phone) if channel == Channel.SMS else contact.email
    if not address:
        field = "phone" if channel == Channel.SMS else "email"
        raise ConsentError(f"The contact has no {field} to consent with.", field=field)
    return address


def _state_sync(
    contact: Contact, channel: str, purpose: str, *, cause: ConsentRecord | None = None
) -> tuple[str, ConsentState]:
    """Brings the key's state row in step with its ledger; returns the status before and the
    row. A changed status is handed to the consent-change hook, with the ledger row that
    caused it (else the latest one)."""
    before = (
        ConsentState.objects.filter(contact=contact, channel=channel, purpose=purpose)
        .values_list("status", flat=True)
        .first()
    ) or ConsentStatus.NONE
    records = list(
        ConsentRecord.objects.of_contact(contact, channel)
        .filter(purpose=purpose)
        .select_related("form")
    )
    status, stamps = consent_status_after(records)
    latest = max(records, key=lambda r: (r.occurred_at, r.pk))
    state, _ = ConsentState.objects.update_or_create(
        contact=contact,
        channel=channel,
        purpose=purpose,
        defaults={
            "status": status,
            "address": latest.address,
            "last_record": latest,
            "opted_in_at": stamps.get("opted_in_at"),
            "confirmed_at": stamps.get("confirmed_at"),
            "opted_out_at": stamps.get("opted_out_at"),
        },
    )
    if state.status != before:
        consent_change_hook.fire(lambda: [_change(contact, state, before, cause or latest)])
    return before, state


def _change(contact: Contact, state: ConsentState, before: str, cause: ConsentRecord):
    return ConsentChange(
        contact_id=contact.pk,
        channel=state.channel,
        purpose=state.purpose,
        old_status=before,
        new_status=state.status,
        action=cause.action,
        source=cause.source,
        address=cause.address,
        record_id=cause.pk,
        at=cause.occurred_at,
    )


def consent_states_recompute(*, contact: Contact) -> list[ConsentState]:
    """Rebuilds each of the contact's state rows from its ledger, e.g. after a merge moved
    rows to it."""
    keys = (
        ConsentRecord.objects.filter(contact=contact)
        .values_list("channel", "purpose")
        .distinct()
        .order_by()
    )
    states = []
    for channel, purpose in keys:
        if ConsentRecord.objects.of_contact(contact, channel).filter(purpose=purpose).exists():
            states.append(_state_sync(contact, channel, purpose)[1])
    return states


def consent_opt_in(*, contact, channel, purpose, source, evidence=None, occurred_at=None):
    return consent_record(
        contact=contact, channel=channel, purpose=purpose, action=ConsentAction.OPT_IN,
        source=source, evidence=evidence, occurred_at=occurred_at,
    )  # fmt: skip


def consent_opt_out(*, contact, channel, purpose, source, evidence=None, occurred_at=None):
    return consent_record(
        contact=contact, channel=channel, purpose=purpose, action=ConsentAction.OPT_OUT,
        source=source, evidence=evidence, occurred_at=occurred_at,
    )  # fmt: skip


@transaction.atomic
def consent_confirm(*, contact: Contact, source: str, evidence: Evidence | None = None):
    """A YES to the double opt-in message: confirms pending marketing SMS consent."""
    records = (
        ConsentRecord.objects.of_contact(contact, Channel.SMS)
        .filter(purpose=Purpose.MARKETING)
        .select_related("form")
    )
    status, _ = consent_status_after(list(records))  # the ledger, not its editable copy
    if status != ConsentStatus.PENDING:
        raise ConsentError("There is no pending opt-in to confirm.", code="nothing_pending")
    return consent_record(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        action=ConsentAction.CONFIRM,
        source=source,
        evidence=evidence,
    )


@transaction.atomic
def consent_revoke_channel(
    *, contact: Contact, channel: str, source: str, evidence: Evidence | None = None
) -> list[ConsentRecord]:
    """STOP and its equivalents end every purpose on the channel, not just marketing."""
    return [
        consent_opt_out(
            contact=contact, channel=channel, purpose=purpose, source=source, evidence=evidence
        )
        for purpose in Purpose.values
    ]


@transaction.atomic
def suppression_add(
    *,
    address: str,
    reason: str,
    source: str,
    channel: str = Channel.SMS,
    contact: Contact | None = None,
    note: str = "",
) -> Suppression:
    """Adds the address to the suppression list; adding it again keeps the first entry."""
    _choices_check(channel=channel, source=source)
    address = address_normalize(address, channel)
    if reason not in Suppression.Reason.values:
        raise ConsentError(f"{reason!r} is not a suppression reason.", field="reason")
    listed = Suppression.objects.of_address(address, channel).order_by("created_at", "pk").first()
    if listed is not None:  # the number itself, or its keyed hash after an erasure
        return listed
    suppression, _ = Suppression.objects.get_or_create(
        channel=channel,
        address=address,
        defaults={"reason": reason, "source": source, "contact": contact, "note": note},
    )
    return suppression


def address_normalize(address: str, channel: str) -> str:
    """E.164 for phone numbers, lower case for email: the forms lookups compare."""
    address = address.strip()
    if channel == Channel.EMAIL:
        return address.lower()
    e164 = phone_format_e164(address)
    if e164 is None:
        raise ConsentError(f"{address!r} is not a phone number.", field="address")
    return e164


@transaction.atomic
def suppression_remove(*, address: str, channel: str = Channel.SMS) -> int:
    """The consumer lifts their own revocation (START/UNSTOP/YES from the number). What a
    person, a bounce or an invalid number put on the list stays there."""
    address = address_normalize(address, channel)
    deleted, _ = (
        Suppression.objects.of_address(address, channel)
        .filter(reason__in=Suppression.CONSUMER_REVOCATIONS)
        .delete()
    )
    return deleted


_ADDRESS_NOUNS = {Channel.SMS: "Phone number", Channel.EMAIL: "Email address"}


@transaction.atomic
def consent_address_change(*, contact: Contact, channel: str, address: str) -> list[ConsentRecord]:
    """The contact's phone number (or email) is now `address`: consent given for another
    address does not carry over. Each purpose whose opt-in (or pending one) was given for
    another address gets a ledger row that ends it, until consent is given for this one."""
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    records = list(
        ConsentRecord.objects.of_contact(contact, channel)
        .select_related("form")
        .order_by("occurred_at", "id")
    )
    ended = []
    for purpose in Purpose.values:
        given_for = consent_given_for(r for r in records if r.purpose == purpose)
        if given_for is None or addresses_same(given_for, address, channel):
            continue
        note = (
            f"{_ADDRESS_NOUNS[channel]} changed to {address}; consent was given for "
            f"{given_for} and does not carry over."
        )
        ended.append(
            _record_append(
                contact=contact,
                channel=channel,
                purpose=purpose,
                action=ConsentAction.NEW_ADDRESS,
                source=ConsentSource.SYSTEM,
                occurred_at=None,
                address=address,
                evidence=Evidence(note=note),
            )
        )
    return ended


_CHANNEL_OF_FIELD = {"phone": Channel.SMS, "email": Channel.EMAIL}


def consent_on_address_change(contact: Contact, field: str, address: str) -> None:
    """contacts' hand-off when a contact's phone or email changes (registered in ready())."""
    consent_address_change(contact=contact, channel=_CHANNEL_OF_FIELD[field], address=address)


def consent_given_for(records) -> str | None:
    """The address the key's consent (opted in or pending) was given for: its latest
    opt-in's. None when the ledger, replayed, holds no such consent."""
    records = sorted(records, key=lambda r: (r.occurred_at, r.pk or 0))
    status, _ = consent_status_after(records)
    if status not in (ConsentStatus.OPTED_IN, ConsentStatus.PENDING):
        return None
    return next(r.address for r in reversed(records) if r.action == ConsentAction.OPT_IN)


def addresses_same(first: str, second: str, channel: str) -> bool:
    """Whether two spellings name one address (E.164 / case-insensitive email)."""
    if first == second:
        return True
    try:
        return address_normalize(first, channel) == address_normalize(second, channel)
    except ConsentError:
        return False


@transaction.atomic
def preference_set(*, contact: Contact, **values) -> Preference:
    preference, _ = Preference.objects.get_or_create(contact=contact)
    for name, value in values.items():
        setattr(preference, name, value)
    preference.full_clean()
    preference.save()
    return preference
