"""Status callbacks: signed by Twilio or refused, idempotent, and only ever forward."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from django.db import InterfaceError, OperationalError
from twilio.request_validator import RequestValidator

from apps.sends.models import MessageEvent, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.webhooks import status as status_webhook
from tests.sends.conftest import AUTH_TOKEN

pytestmark = pytest.mark.django_db

PATH = "/webhooks/twilio/status/"


@pytest.fixture
def sent_message(fake_twilio, opted_in_contact):
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        message = message_create(
            send_key="m",
            origin="journey",
            category="transactional",
            contact=opted_in_contact(),
            body="Your meeting is at 3 pm.",
        )
        message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


def signed_post(
    client, message, status, *, token=AUTH_TOKEN, tamper=False, headers=None, **request
):
    query = f"?m={message.pk}"
    params = {
        "MessageSid": message.provider_sid,
        "MessageStatus": status,
        "AccountSid": "AC" + "1" * 32,
        "To": message.to_address,
    }
    signature = RequestValidator(token).compute_signature(
        f"https://cue.example.com{PATH}{query}", params
    )
    if tamper:
        params["MessageStatus"] = "failed"
    return client.post(
        PATH + query,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature, **(headers or {})},
        **request,
    )


def status_of(message) -> str:
    return OutboundMessage.objects.get(pk=message.pk).status


def test_it_moves_a_sent_message_to_delivered(client, sent_message):
    response = signed_post(client, sent_message, "delivered")
    assert response.status_code == 204
    assert status_of(sent_message) == "delivered"


@pytest.mark.parametrize("kind", ["unsigned", "wrong key", "tampered"])
def test_it_refuses_a_request_twilio_did_not_sign_and_changes_nothing(client, sent_message, kind):
    logged = MessageEvent.objects.count()
    if kind == "unsigned":
        response = client.post(
            PATH, {"MessageSid": sent_message.provider_sid, "MessageStatus": "delivered"}
        )
    else:
        response = signed_post(
            client,
            sent_message,
            "delivered",
            token="other" if kind == "wrong key" else AUTH_TOKEN,
            tamper=kind == "tampered",
        )
    assert response.status_code == 403
    assert status_of(sent_message) == "sent"
    assert MessageEvent.objects.count() == logged


def test_it_ignores_a_duplicate_callback(client, sent_message):
    signed_post(client, sent_message, "delivered")
    logged = MessageEvent.objects.count()
    assert signed_post(client, sent_message, "delivered").status_code == 204
    assert MessageEvent.objects.count() == logged


def test_it_never_lets_a_late_sent_overwrite_delivered(client, sent_message):
    signed_post(client, sent_message, "delivered")
    signed_post(client, sent_message, "sent")
    assert status_of(sent_message) == "delivered"


def test_it_treats_a_repeated_idempotency_token_as_the_same_callback(client, sent_message):
    headers = {"I-Twilio-Idempotency-Token": "tok-1"}
    signed_post(client, sent_message, "undelivered", headers=headers)
    logged = MessageEvent.objects.count()
    signed_post(client, sent_message, "undelivered", headers=headers)
    assert (status_of(sent_message), MessageEvent.objects.count()) == ("undelivered", logged)


def test_it_records_the_error_code_of_a_failed_delivery(client, sent_message):
    query = f"?m={sent_message.pk}"
    params = {
        "MessageSid": sent_message.provider_sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://cue.example.com{PATH}{query}", params
    )
    client.post(PATH + query, params, headers={"X-Twilio-Signature": signature})
    message = OutboundMessage.objects.get(pk=sent_message.pk)
    assert (message.status, message.error_code) == ("undelivered", "30003")


def test_it_accepts_the_fakes_own_signed_callback_over_http(
    live_server, sent_message, fake_twilio, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    url = f"{live_server.url}{PATH}?m={sent_message.pk}"
    assert fake_twilio.send_status_callback(sent_message.provider_sid, "delivered", url=url) == 204


def test_a_client_whose_calls_keep_being_refused_is_turned_away_for_the_minute(
    client, sent_message, settings
):
    settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE = 3
    unsigned = {"MessageSid": sent_message.provider_sid, "MessageStatus": "delivered"}
    answers = [client.post(PATH, unsigned).status_code for _ in range(4)]
    assert answers == [403, 403, 403, 429]
    # Even a signed call from that client waits out the minute: nothing changes.
    turned_away = signed_post(client, sent_message, "delivered")
    assert (turned_away.status_code, turned_away["Retry-After"]) == (429, "60")
    assert status_of(sent_message) == "sent"
    # Another client (Twilio's own) is not affected.
    twilio = signed_post(client, sent_message, "delivered", REMOTE_ADDR="54.172.60.1")
    assert twilio.status_code == 204
    assert status_of(sent_message) == "delivered"


def test_signed_calls_never_spend_the_budget(client, sent_message, settings):
    settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE = 2
    answers = {signed_post(client, sent_message, "delivered").status_code for _ in range(5)}
    assert answers == {204}
    unsigned = {"MessageSid": sent_message.provider_sid, "MessageStatus": "failed"}
    assert client.post(PATH, unsigned).status_code == 403


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection"), InterfaceError("connection already closed")],
)
def test_a_lost_database_answers_503_so_that_twilio_retries(
    client, sent_message, monkeypatch, error
):
    def lost(**kwargs):
        raise error

    monkeypatch.setattr(status_webhook, "status_callback_apply", lost)
    response = signed_post(client, sent_message, "delivered")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert status_of(sent_message) == "sent"
