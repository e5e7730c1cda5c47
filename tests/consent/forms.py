"""A hosted opt-in form for tests that need the consumer's own opt-in as evidence."""

from apps.consent.models import ConsentDisclosure, OptInForm, Purpose


def optin_form(*, double_opt_in: bool = True, slug: str = "updates") -> OptInForm:
    disclosure, _ = ConsentDisclosure.objects.get_or_create(
        key="sms-marketing", version=1, defaults={"text": "Reply STOP to opt out."}
    )
    return OptInForm.objects.create(
        slug=slug,
        name="Product updates",
        brand="Brightline",
        program_name="Brightline Updates",
        help_contact="help@brightline.example",
        disclosure=disclosure,
        double_opt_in=double_opt_in,
        purposes=[Purpose.MARKETING],
    )
