"""ANYMAIL_ESP=amazon_ses works: boto3 is installed (pinned in pyproject.toml), and anymail's
real Amazon SES backend sends Cue's email through boto3 to a fake SES on 127.0.0.1, signed
as for AWS, with the raw message Cue built."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.testing.fake_ses import FakeSes

pytestmark = pytest.mark.django_db

TUESDAY_NOON_CHICAGO = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def fake_ses(settings):
    with FakeSes() as fake:
        settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
        settings.ANYMAIL = {
            "AMAZON_SES_CLIENT_PARAMS": {
                "endpoint_url": fake.endpoint_url,
                "region_name": "us-east-1",
                "aws_access_key_id": "AKIDFAKEFORTESTS",
                "aws_secret_access_key": "fake-secret-for-tests",
            }
        }
        settings.DEFAULT_FROM_EMAIL = "Cue <cue@example.com>"
        settings.PUBLIC_BASE_URL = "https://cue.example.com"
        yield fake


@pytest.fixture
def email_contact(opted_in_contact):
    with time_machine.travel(TUESDAY_NOON_CHICAGO, tick=False):
        contact = opted_in_contact(email="ada@example.com")
        consent_opt_in(
            contact=contact,
            channel=Channel.EMAIL,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
        )
    return contact


def test_it_sends_the_raw_message_through_ses(fake_ses, email_contact):
    with time_machine.travel(TUESDAY_NOON_CHICAGO, tick=False):
        message = message_create(
            send_key="offer", origin="journey", category="marketing", channel="email",
            contact=email_contact, subject="Your offer", body="Here is the offer you asked for.",
        )  # fmt: skip
        assert message_dispatch(message_id=message.pk) == "sent"
    message.refresh_from_db()

    [sent] = fake_ses.sent
    raw = sent.parsed
    assert (raw["To"], raw["From"], raw["Subject"]) == (
        "ada@example.com", "Cue <cue@example.com>", "Your offer",
    )  # fmt: skip
    assert raw.get_content().strip() == "Here is the offer you asked for."
    assert raw["X-Cue-Message"] == str(message.pk)
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert raw["List-Unsubscribe"].strip().startswith("<https://cue.example.com/unsubscribe/")
    assert sent.authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKEFORTESTS/")
    assert (message.status, message.provider_sid) == ("sent", sent.message_id)
