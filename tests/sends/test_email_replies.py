"""A reply to one of Cue's emails: the ESP's inbound webhook (Postmark's shape, from the fake
Postmark) comes through anymail's own view, verified by basic auth, and becomes one
email_reply event of the contact naming the email it answers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in
from apps.contacts.models import Event
from apps.sends.models import OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.testing.fake_postmark import FakePostmark

pytestmark = pytest.mark.django_db

TUESDAY_NOON_CHICAGO = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
REPLIED_AT = TUESDAY_NOON_CHICAGO + timedelta(hours=2)
WEBHOOK_SECRET = "cue-hooks:s3cret-for-tests"
INBOUND_PATH = "/webhooks/email/postmark/inbound/"


@pytest.fixture
def fake_postmark(settings):
    with FakePostmark() as fake:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": fake.api_url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        settings.PUBLIC_BASE_URL = "https://cue.example.com"
        yield fake


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_NOON_CHICAGO, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sent(fake_postmark, opted_in_contact, clock) -> OutboundMessage:
    """An email a journey sent to Ada at noon; the clock then moves to her reply."""
    contact = opted_in_contact(email="ada@example.com")
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    message = message_create(
        send_key="offer", origin="journey", category="marketing", channel="email",
        contact=contact, subject="Your offer", body="Here is the offer you asked for.",
    )  # fmt: skip
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    clock.move_to(REPLIED_AT)
    return message


def hook_url(live_server, secret=WEBHOOK_SECRET) -> str:
    return f"http://{secret}@{live_server.url.removeprefix('http://')}{INBOUND_PATH}"


def replies():
    return list(
        Event.objects.filter(type="email_reply").values_list(
            "contact_id", "occurred_at", "properties", "source"
        )
    )


def test_it_records_a_reply_as_an_email_reply_event_of_the_email(live_server, sent, fake_postmark):
    status = fake_postmark.post_reply(hook_url(live_server), sent.provider_sid, "Yes, call me")
    assert status == 200
    assert replies() == [
        (
            sent.contact_id,
            REPLIED_AT,
            {"message_id": sent.pk, "journey_id": None, "subject": "Re: Your offer"},
            "email",
        )
    ]


def test_the_same_reply_posted_twice_is_recorded_once(live_server, sent, fake_postmark):
    payload = fake_postmark.reply_payload(sent.provider_sid, "Yes")
    client = Client()
    auth = {"HTTP_AUTHORIZATION": "Basic Y3VlLWhvb2tzOnMzY3JldC1mb3ItdGVzdHM="}
    for _ in range(2):
        answer = client.post(INBOUND_PATH, payload, content_type="application/json", **auth)
        assert answer.status_code == 200
    assert len(replies()) == 1


def test_a_reply_without_the_secret_is_refused_and_records_nothing(
    live_server, sent, fake_postmark
):
    url = hook_url(live_server, secret="cue-hooks:wrong")
    assert fake_postmark.post_reply(url, sent.provider_sid, "Yes") == 400
    assert replies() == []


def test_mail_from_an_address_cue_never_emailed_records_nothing(live_server, sent, fake_postmark):
    url = hook_url(live_server)
    stranger = {"From": "eve@example.com", "FromFull": {"Email": "eve@example.com", "Name": ""}}
    assert fake_postmark.post_reply(url, sent.provider_sid, "Hi", **stranger) == 200
    assert replies() == []


def test_mail_the_esp_marked_as_spam_records_nothing(live_server, sent, fake_postmark):
    spam = {"Headers": [{"Name": "X-Spam-Status", "Value": "Yes"}]}
    assert fake_postmark.post_reply(hook_url(live_server), sent.provider_sid, "$$$", **spam) == 200
    assert replies() == []


def test_a_subject_with_a_nul_is_stored_without_it(live_server, sent, fake_postmark):
    url = hook_url(live_server)
    assert fake_postmark.post_reply(url, sent.provider_sid, "ok", Subject="Re:\x00 offer") == 200
    [(_, _, properties, _)] = replies()
    assert properties["subject"] == "Re: offer"
