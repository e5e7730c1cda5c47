"""The demo speaks for one brand: the opt-in form, its disclosure, the demo templates'
messages and what lint demands all name the account's brand, never another."""

import pytest
from django.core.management import call_command

from apps.accounts.selectors import brand_current
from apps.consent.demo import FORM_SLUG
from apps.consent.models import OptInForm
from apps.library.checks import content_lint
from apps.library.models import Channel, MessageTemplate

pytestmark = pytest.mark.django_db


def test_the_demo_opt_in_form_messages_and_lint_name_one_brand():
    call_command("seed_demo")
    brand = brand_current().name
    form = OptInForm.objects.get(slug=FORM_SLUG)
    templates = MessageTemplate.objects.filter(channel=Channel.SMS, current_version__isnull=False)
    bodies = [t.current_version.body for t in templates.select_related("current_version")]

    assert (form.brand, form.program_name) == (brand, f"{brand} webinar & product texts")
    assert f"from {brand} at the mobile number" in form.disclosure.text
    assert bodies and all(brand in body for body in bodies)
    findings = [_lint(template) for template in templates]
    assert [[f.rule for f in found if f.rule.startswith("brand")] for found in findings] == [
        [] for _ in findings
    ]


def _lint(template):
    version = template.current_version
    return content_lint(
        channel=template.channel,
        category=template.category,
        body=version.body,
        links=version.links,
        defaults=version.defaults,
    )
