"""What a CRM says about a person's SMS consent, acted on only when it changes.

- Opted out (a mapped field or HubSpot's subscription status): a ledger row, source
  `crm:<system>`, the record and field as evidence; it wins at once.
- Opted in: counts only when the mapping names evidence fields and the record has them;
  otherwise it is kept as an attempt "claimed, no evidence", which allows nothing.
"""

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from apps.consent.models import Channel, ConsentAction, ConsentAttempt, Purpose
from apps.consent.services import ConsentError, Evidence, consent_opt_in, consent_opt_out
from apps.contacts.models import Contact
from apps.crm.models import ConsentFlag

NO_EVIDENCE = "crm_no_evidence"


@dataclass
class ConsentClaim:
    record_id: str
    object_type: str
    at: datetime
    opted_out: bool
    opted_in: bool
    evidence: dict = field(default_factory=dict)
    contact_id: int | None = None


def consent_claims_apply(system: str, claims: list[ConsentClaim]) -> None:
    if not claims:
        return
    seen = {
        flag.record_id: flag
        for flag in ConsentFlag.objects.filter(
            system=system, record_id__in=[c.record_id for c in claims]
        )
    }
    contacts = Contact.objects.in_bulk([c.contact_id for c in claims])
    for claim in claims:
        before = seen.get(claim.record_id)
        contact = contacts[claim.contact_id]
        if not contact.phone:
            continue  # no number yet: the flag is acted on at the first sync that has one
        if claim.opted_out and not (before and before.opted_out):
            _opt_out(system, contact, claim)
        elif claim.opted_in and not (before and before.opted_in):
            _opt_in(system, contact, claim)
        ConsentFlag.objects.update_or_create(
            system=system, record_id=claim.record_id,
            defaults={"opted_out": claim.opted_out, "opted_in": claim.opted_in},
        )  # fmt: skip


def consent_flags_carry(system: str, conversions: dict[str, str]) -> None:
    """A converted lead's consent flags become the contact's it turned into ({lead id:
    contact id}), so the same flag on that contact, carried over by the conversion, is not
    news: the person is not opted out a second time. A contact with flags of its own keeps
    them."""
    if not conversions:
        return
    flags = ConsentFlag.objects.filter(system=system)
    taken = set(
        flags.filter(record_id__in=conversions.values()).values_list("record_id", flat=True)
    )
    for lead_id, contact_id in conversions.items():
        if contact_id not in taken:
            flags.filter(record_id=lead_id).update(record_id=contact_id)


def _note(system: str, claim: ConsentClaim, what: str) -> str:
    fields = ", ".join(f"{k}={v}" for k, v in sorted(claim.evidence.items()))
    changed = f"{claim.at:%Y-%m-%d %H:%M} UTC"
    note = f"{system} {claim.object_type} {claim.record_id}: {what} (changed {changed})"
    return f"{note}; evidence: {fields}" if fields else note


def _opt_out(system: str, contact: Contact, claim: ConsentClaim) -> None:
    consent_opt_out(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=f"crm:{system}",
        evidence=Evidence(note=_note(system, claim, "opted out of SMS")), occurred_at=claim.at,
    )  # fmt: skip


def _opt_in(system: str, contact: Contact, claim: ConsentClaim) -> None:
    if not claim.evidence:
        ConsentAttempt.objects.create(
            contact=contact, address=str(contact.phone), channel=Channel.SMS,
            purpose=Purpose.MARKETING, action=ConsentAction.OPT_IN, source=f"crm:{system}",
            reason_code=NO_EVIDENCE,
            reason="The CRM says opted in, but its mapping names no evidence of it: "
            "claimed, no evidence; marketing is not allowed on it.",
            note=_note(system, claim, "claimed an SMS opt-in"),
        )  # fmt: skip
        return
    # Refused (e.g. after a STOP): the consent service keeps the attempt as evidence.
    with contextlib.suppress(ConsentError):
        consent_opt_in(
            contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING,
            source=f"crm:{system}", occurred_at=claim.at,
            evidence=Evidence(note=_note(system, claim, "opted in to SMS")),
        )  # fmt: skip
