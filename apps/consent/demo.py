"""A demo SMS disclosure and the opt-in form at /optin/demo/, in the account's one brand:
the name the demo's messages carry and lint demands (apps.accounts.demo seeds it first)."""

from apps.accounts.selectors import brand_current
from apps.consent.models import ConsentDisclosure, OptInForm, Purpose

DISCLOSURE_KEY = "demo-sms-marketing"
DISCLOSURE_VERSION = 1
DISCLOSURE_TEXT = (
    "By checking the box, you agree to receive recurring automated marketing text messages "
    "(such as webinar reminders and product updates) from {brand} at the mobile "
    "number provided. Consent is not a condition of any purchase. Up to 4 msgs/month. "
    "Msg & data rates may apply. Reply HELP for help, STOP to cancel."
)
FORM_SLUG = "demo"


def seed(workspace: dict) -> None:
    brand = brand_current()
    disclosure = ConsentDisclosure.objects.filter(
        key=DISCLOSURE_KEY, version=DISCLOSURE_VERSION
    ).first() or ConsentDisclosure.objects.create(
        key=DISCLOSURE_KEY,
        version=DISCLOSURE_VERSION,
        text=DISCLOSURE_TEXT.format(brand=brand.name),
    )
    # Created once and then left alone: an admin's later edits to the demo form stay.
    form = OptInForm.objects.filter(slug=FORM_SLUG).first() or OptInForm.objects.create(
        slug=FORM_SLUG,
        name="Demo: webinar reminders",
        brand=brand.name,
        program_name=f"{brand.name} webinar & product texts",
        message_frequency="Up to 4 msgs/month",
        help_contact=brand.support or "support@example.com",
        privacy_url="https://example.com/privacy",
        terms_url="https://example.com/sms-terms",
        disclosure=disclosure,
        double_opt_in=True,
        ask_email=True,
        purposes=[Purpose.MARKETING.value],
        is_active=True,
    )
    workspace["optin_form"] = form
    _demo_consent(workspace.get("contacts", {}), disclosure, form)


# external id → what the demo contact agreed to (recorded once, on the first run)
DEMO_CONSENT = {
    "demo-1": "opted_in",
    "demo-2": "opted_in",
    "demo-3": "opted_in",
    "demo-4": "opted_in",
    "demo-5": "opted_in",
    "demo-6": "pending",
    "demo-7": "opted_out",
    "demo-8": "opted_in",
}


def _demo_consent(contacts: dict, disclosure, form) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.consent.models import Channel, ConsentRecord, ConsentSource
    from apps.consent.services import Evidence, consent_opt_in, consent_revoke_channel

    signed_up = timezone.now() - timedelta(days=30)
    for external_id, outcome in DEMO_CONSENT.items():
        contact = contacts.get(external_id)
        if contact is None or ConsentRecord.objects.filter(contact=contact).exists():
            continue
        source = ConsentSource.WEB_FORM if outcome == "pending" else ConsentSource.IMPORT
        evidence = Evidence(
            ip_address="203.0.113.10",
            user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)",
            page_url="https://example.com/webinar",
            disclosure=disclosure,
            disclosure_text=disclosure.text,
            form=form if outcome == "pending" else None,
            note="Demo workspace",
        )
        for purpose in ("marketing", "transactional"):
            consent_opt_in(
                contact=contact,
                channel=Channel.SMS,
                purpose=purpose,
                source=source,
                evidence=evidence,
                occurred_at=signed_up,
            )
        if outcome == "opted_out":
            consent_revoke_channel(
                contact=contact,
                channel=Channel.SMS,
                source=ConsentSource.KEYWORD,
                evidence=Evidence(keyword="STOP"),
            )
