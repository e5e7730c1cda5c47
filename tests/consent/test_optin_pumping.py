"""The opt-in form resists SMS pumping: confirmation texts go only to allowed countries,
within a per-number, a per-prefix and a daily budget; a refused submission sends nothing,
stores no consent and is kept as a refused attempt; the daily ceiling alerts admins once."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from apps.accounts import roles
from apps.consent.models import ConsentAttempt, ConsentDisclosure, ConsentRecord, OptInForm
from apps.contacts.models import Contact
from apps.sends.models import OutboundMessage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CONFIRMATION = "double_opt_in"


@pytest.fixture(autouse=True)
def budgets(settings):
    settings.TWILIO_ACCOUNT_SID = ""  # the console transport: every text is an outbox row
    settings.THROTTLE_OPTIN_PER_MINUTE = 1000  # the per-IP budget is not the subject here
    settings.CUE_OPTIN_SMS_COUNTRIES = ["US"]
    settings.CUE_OPTIN_SMS_PER_NUMBER = 2
    settings.CUE_OPTIN_SMS_PER_PREFIX = 3
    settings.CUE_OPTIN_SMS_DAILY_CEILING = 100
    cache.clear()
    with time_machine.travel(datetime(2026, 3, 10, 17, 0, tzinfo=UTC), tick=False):
        yield
    cache.clear()


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, with each request's after-commit work (the confirmation) run."""

    class Committing:
        def post(self, *args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(*args, **kwargs)

    return Committing()


@pytest.fixture
def optin(db):
    disclosure = ConsentDisclosure.objects.create(
        key="sms", version=1, text="I agree to receive recurring marketing texts from Acme."
    )
    return OptInForm.objects.create(
        slug="deals", name="Deals", brand="Acme", program_name="Acme Deals",
        message_frequency="Up to 4 msgs/month", help_contact="help@acme.example",
        privacy_url="https://acme.example/privacy", terms_url="https://acme.example/terms",
        disclosure=disclosure, double_opt_in=True, purposes=["marketing"],
    )  # fmt: skip


def submit(client, phone: str):
    data = {"name": "Pat Doe", "phone": phone, "consent": "on"}
    url = reverse("optin:form", args=["deals"])
    return client.post(url, data, REMOTE_ADDR="198.51.100.4")


def confirmations() -> int:
    return OutboundMessage.objects.filter(origin=CONFIRMATION).count()


def attempts() -> list[tuple[str, str]]:
    return list(ConsentAttempt.objects.order_by("pk").values_list("address", "reason_code"))


def test_the_prefix_budget_refuses_the_n_plus_first_confirmation(client, optin):
    for last in "123":
        assert submit(client, f"+1415555210{last}").status_code == 302
    assert confirmations() == 3

    refused = submit(client, "+14155552104")

    assert refused.status_code == 400
    assert "We can&#x27;t text a confirmation to this number right now" in refused.content.decode()
    assert confirmations() == 3
    assert attempts() == [("+14155552104", "pumping_prefix")]
    assert not Contact.objects.filter(phone="+14155552104").exists()
    assert ConsentRecord.objects.count() == 3


def test_the_number_budget_refuses_a_third_submission_of_one_number(client, optin):
    assert submit(client, "+14155552101").status_code == 302
    assert submit(client, "+14155552101").status_code == 302  # still pending: no second text
    ledger = ConsentRecord.objects.count()

    refused = submit(client, "+14155552101")

    assert refused.status_code == 400
    assert confirmations() == 1
    assert ConsentRecord.objects.count() == ledger
    assert attempts() == [("+14155552101", "pumping_number")]


def test_a_number_outside_the_allowed_countries_is_refused_and_recorded(client, optin):
    refused = submit(client, "+4915112345678")

    assert refused.status_code == 400
    assert confirmations() == 0
    assert (Contact.objects.count(), ConsentRecord.objects.count()) == (0, 0)
    assert attempts() == [("+4915112345678", "pumping_country")]
    attempt = ConsentAttempt.objects.get()
    assert attempt.reason == "Confirmation texts are not sent to numbers in DE."
    assert attempt.note == "Opt-in form deals"


def test_another_allowed_country_is_texted(client, optin, settings):
    settings.CUE_OPTIN_SMS_COUNTRIES = ["US", "de"]
    assert submit(client, "+4915112345678").status_code == 302
    assert confirmations() == 1
    assert attempts() == []


def test_the_daily_ceiling_refuses_everyone_and_alerts_admins_once(client, optin, settings):
    settings.CUE_OPTIN_SMS_DAILY_CEILING = 2
    UserFactory(role=roles.ADMIN, username="boss", email="boss@acme.example")
    UserFactory(role=roles.MARKETER, username="mark", email="mark@acme.example")
    assert submit(client, "+14155552101").status_code == 302
    assert submit(client, "+12125550199").status_code == 302

    assert submit(client, "+13125550142").status_code == 400
    assert submit(client, "+16175550123").status_code == 400

    assert confirmations() == 2
    assert [code for _, code in attempts()] == ["pumping_ceiling", "pumping_ceiling"]
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("Cue: opt-in confirmation texts stopped at the daily ceiling", ["boss@acme.example"])
    ]


def test_a_single_opt_in_form_texts_nothing_and_is_not_budgeted(client, optin):
    OptInForm.objects.filter(pk=optin.pk).update(double_opt_in=False)
    for _ in range(3):
        assert submit(client, "+4915112345678").status_code == 302
    assert confirmations() == 0
    assert attempts() == []
