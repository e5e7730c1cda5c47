"""Submissions of the hosted opt-in form: the contact, and one SMS opt-in per purpose."""

from django.db import transaction

from apps.consent.models import Channel, ConsentSource, OptInForm
from apps.consent.services import ConsentError, Evidence, consent_opt_in
from apps.contacts.models import Contact, ContactKind, LifecycleStage
from apps.contacts.services import contact_match, contact_update, contact_upsert


@transaction.atomic
def optin_submit(*, optin: OptInForm, data: dict, evidence: Evidence) -> Contact:
    """Finds or creates the contact and appends one SMS opt-in per purpose of the form."""
    if not optin.purposes:
        raise ConsentError("This form asks for no consent purpose.", field="purposes")
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
    existing = contact_match(phone=phone) or _phoneless_contact(email)
    if email and contact_match(email=email) not in (None, existing):
        offered.pop("email")  # it belongs to someone else; the phone decides who this is
    if existing is None:
        fields = {
            **{name: value for name, value in offered.items() if value},
            "phone": phone,
            "kind": ContactKind.PROSPECT,
            "lifecycle_stage": LifecycleStage.SUBSCRIBER,
            "source": f"optin:{optin.slug}",
        }
        return contact_upsert(fields=fields).contact
    blanks = {
        name: value for name, value in offered.items() if value and not getattr(existing, name)
    }
    if not existing.phone:
        blanks["phone"] = phone
    return contact_update(contact=existing, fields=blanks) if blanks else existing


def _phoneless_contact(email: str) -> Contact | None:
    found = contact_match(email=email) if email else None
    return found if found is not None and not found.phone else None
