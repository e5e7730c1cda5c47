"""A demo SMS disclosure and the opt-in form at /optin/demo/."""

from apps.consent.models import ConsentDisclosure, OptInForm, Purpose

DISCLOSURE_KEY = "demo-sms-marketing"
DISCLOSURE_VERSION = 1
DISCLOSURE_TEXT = (
    "By checking the box, you agree to receive recurring automated marketing text messages "
    "(such as webinar reminders and product updates) from Brightline Software at the mobile "
    "number provided. Consent is not a condition of any purchase. Up to 4 msgs/month. "
    "Msg & data rates may apply. Reply HELP for help, STOP to cancel."
)
FORM_SLUG = "demo"


def seed(workspace: dict) -> None:
    disclosure = ConsentDisclosure.objects.filter(
        key=DISCLOSURE_KEY, version=DISCLOSURE_VERSION
    ).first() or ConsentDisclosure.objects.create(
        key=DISCLOSURE_KEY, version=DISCLOSURE_VERSION, text=DISCLOSURE_TEXT
    )
    # Created once and then left alone: an admin's later edits to the demo form stay.
    form = OptInForm.objects.filter(slug=FORM_SLUG).first() or OptInForm.objects.create(
        slug=FORM_SLUG,
        name="Demo: webinar reminders",
        brand="Brightline Software",
        program_name="Brightline webinar & product texts",
        message_frequency="Up to 4 msgs/month",
        help_contact="support@brightline.example",
        privacy_url="https://brightline.example/privacy",
        terms_url="https://brightline.example/sms-terms",
        disclosure=disclosure,
        double_opt_in=True,
        ask_email=True,
        purposes=[Purpose.MARKETING.value],
        is_active=True,
    )
    workspace["optin_form"] = form
