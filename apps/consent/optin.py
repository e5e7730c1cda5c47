"""Submissions of the hosted opt-in form: the contact, and one SMS opt-in per purpose."""

from django.db import transaction

from apps.consent.models import Channel, ConsentSource, OptInForm
from apps.consent.pumping import (
    CONFIRMATION_BUDGET_LOCK,
    optin_asks_confirmation,
    optin_pumping_record,
    optin_pumping_refusal,
)
from apps.consent.services import ConsentError, Evidence, consent_opt_in
from apps.contacts.identity import ContactKeys, IdentityIndex, KnownContact, contact_keys
from apps.contacts.models import Contact, ContactKind, LifecycleStage
from apps.contacts.services import contact_update, contact_upsert
from apps.core.locks import transaction_lock


def optin_submit(*, optin: OptInForm, data: dict, evidence: Evidence) -> Contact:
    """Finds or creates the contact and appends one SMS opt-in per purpose of the form;
    refused, with the attempt kept and nothing sent, when the pumping guard says so."""
    if not optin.purposes:
        raise ConsentError("This form asks for no consent purpose.", field="purposes")
    with transaction.atomic():
        # The budgets count the confirmations already recorded: the count and the opt-in
        # that adds to it are one step, or N+1 racing submissions all see N-1 and all send.
        if optin_asks_confirmation(optin):
            transaction_lock(CONFIRMATION_BUDGET_LOCK)
        refusal = optin_pumping_refusal(optin=optin, phone=data["phone"])
        if refusal is None:
            return _optin_record(optin, data, evidence)
    code, reason = refusal
    optin_pumping_record(optin=optin, phone=data["phone"], code=code, reason=reason)
    raise ConsentError(
        "We can't text a confirmation to this number right now. Please try again later "
        "or use another number.",
        field="phone",
        code=code,
    )


def _optin_record(optin: OptInForm, data: dict, evidence: Evidence) -> Contact:
    contact = _optin_contact(optin, data)
    for purpose in optin.purposes:
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=purpose,
            source=ConsentSource.WEB_FORM,
            evidence=evidence,
        )
    return contact


def _optin_contact(optin: OptInForm, data: dict) -> Contact:
    """The contact the phone number names. A public form only fills in what the CRM does not
    know yet: it never overwrites a name, email, kind or lifecycle stage."""
    phone, email = data["phone"], data.get("email") or ""
    first_name, _, last_name = data["name"].partition(" ")
    offered = {"first_name": first_name, "last_name": last_name, "email": email}
    known, email_owner = _contacts_named(contact_keys(phone=phone, email=email))
    if email_owner is not None and email_owner is not known:
        offered.pop("email")  # someone else's: the phone decides who this is; never merged
    if known is None:
        fields = {
            **{name: value for name, value in offered.items() if value},
            "phone": phone,
            "kind": ContactKind.PROSPECT,
            "lifecycle_stage": LifecycleStage.SUBSCRIBER,
            "source": f"optin:{optin.slug}",
        }
        return contact_upsert(fields=fields).contact
    existing = Contact.objects.get(pk=known.pk)
    blanks = {
        name: value for name, value in offered.items() if value and not getattr(existing, name)
    }
    if not existing.phone:
        blanks["phone"] = phone
    return contact_update(contact=existing, fields=blanks) if blanks else existing


def _contacts_named(keys: ContactKeys) -> tuple[KnownContact | None, KnownContact | None]:
    """(the form's contact, the email's owner), from identity, with the form's conflict
    policy: the number being consented decides who this is. When the phone and the email
    name two contacts, the phone's is used and the email is left out, rather than refusing
    a valid consent for that number. An email alone names its contact only if that contact
    has no phone yet (the form fills it in)."""
    index = IdentityIndex.load([keys])
    by_phone = index.resolve(ContactKeys(phone=keys.phone)).known
    by_email = index.resolve(ContactKeys(email=keys.email)).known if keys.email else None
    if by_phone is None and by_email is not None and not by_email.phone:
        return by_email, by_email
    return by_phone, by_email
