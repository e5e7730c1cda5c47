"""N+1 opt-in submissions racing for a budget of N confirmation texts: exactly N are
recorded and texted, the last is refused and kept as an attempt. Races only a real
database shows: run on PostgreSQL."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.consent.models import ConsentAttempt, ConsentDisclosure, ConsentRecord, OptInForm
from apps.consent.optin import optin_submit
from apps.consent.services import ConsentError, Evidence
from apps.sends.models import OutboundMessage
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers"),
]
N = 4


@pytest.fixture(autouse=True)
def budgets(settings):
    settings.TWILIO_ACCOUNT_SID = ""  # the console transport: every text is an outbox row
    settings.CUE_OPTIN_SMS_COUNTRIES = ["US"]
    settings.CUE_OPTIN_SMS_PER_NUMBER = 100
    settings.CUE_OPTIN_SMS_PER_PREFIX = N
    cache.clear()
    with time_machine.travel(datetime(2026, 3, 10, 17, 0, tzinfo=UTC), tick=False):
        yield
    cache.clear()


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


def submitter(optin, phones: list[str]):
    evidence = Evidence(
        ip_address="198.51.100.4", disclosure=optin.disclosure,
        disclosure_text=optin.disclosure.text, form=optin,
    )  # fmt: skip

    def submit(i: int) -> str:
        data = {"name": "Pat Doe", "phone": phones[i], "consent": True}
        try:
            optin_submit(optin=optin, data=data, evidence=evidence)
        except ConsentError as error:
            return error.code
        return "texted"

    return submit


@pytest.mark.parametrize(
    ("phones", "ceiling", "refusal"),
    [
        # the daily ceiling, numbers far apart
        ([f"+1{area}5550100" for area in (415, 212, 312, 617, 206)], N, "pumping_ceiling"),
        # one prefix's budget (every digit but the last four)
        ([f"+1415555{i:04d}" for i in range(N + 1)], 100, "pumping_prefix"),
    ],
)
def test_n_plus_one_racing_submissions_text_exactly_n(optin, settings, phones, ceiling, refusal):
    settings.CUE_OPTIN_SMS_DAILY_CEILING = ceiling
    outcomes = in_threads(N + 1, submitter(optin, phones))

    assert sorted(outcomes) == [refusal] + ["texted"] * N
    assert ConsentRecord.objects.filter(form=optin).count() == N
    assert OutboundMessage.objects.filter(origin="double_opt_in").count() == N
    assert list(ConsentAttempt.objects.values_list("reason_code", flat=True)) == [refusal]
