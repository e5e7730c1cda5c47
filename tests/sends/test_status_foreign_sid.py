"""A status callback changes only the message Twilio's MessageSid names: `?m=` (our id in
the callback URL) names a message only while Cue does not know its sid yet."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from twilio.request_validator import RequestValidator

from apps.sends.models import MessageEvent, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from tests.sends.conftest import AUTH_TOKEN

pytestmark = pytest.mark.django_db

PATH = "/webhooks/twilio/status/"
FOREIGN_SID = "SM" + "f" * 32


def queued(contact, key):
    return message_create(
        send_key=key,
        origin="journey",
        category="transactional",
        contact=contact,
        body="Your meeting is at 3 pm.",
    )


@pytest.fixture
def sent_message(fake_twilio, opted_in_contact):
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        message = queued(opted_in_contact(), "m")
        message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


def callback(client, message_id, sid, status):
    query = f"?m={message_id}"
    params = {"MessageStatus": status, "AccountSid": "AC" + "1" * 32}
    if sid is not None:
        params["MessageSid"] = sid
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://cue.example.com{PATH}{query}", params
    )
    return client.post(
        PATH + query,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def test_a_foreign_sid_with_our_message_id_changes_nothing(client, sent_message):
    logged = MessageEvent.objects.filter(message=sent_message).count()

    response = callback(client, sent_message.pk, FOREIGN_SID, "undelivered")

    assert response.status_code == 204
    stored = OutboundMessage.objects.get(pk=sent_message.pk)
    assert (stored.status, stored.provider_sid) == ("sent", sent_message.provider_sid)
    assert MessageEvent.objects.filter(message=sent_message).count() == logged


def test_a_callback_without_a_sid_changes_nothing(client, sent_message):
    response = callback(client, sent_message.pk, None, "failed")

    assert response.status_code == 204
    assert OutboundMessage.objects.get(pk=sent_message.pk).status == "sent"


def test_the_right_sid_still_moves_the_message_whatever_m_says(
    client, sent_message, opted_in_contact
):
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        other = queued(opted_in_contact(), "other")

    response = callback(client, other.pk, sent_message.provider_sid, "delivered")

    assert response.status_code == 204
    assert OutboundMessage.objects.get(pk=sent_message.pk).status == "delivered"
    assert OutboundMessage.objects.get(pk=other.pk).status == "queued"


def test_a_message_whose_sid_cue_never_learned_takes_it_from_the_callback(client, sent_message):
    # The send call timed out after Twilio took it: Cue has no sid until a callback names it.
    OutboundMessage.objects.filter(pk=sent_message.pk).update(provider_sid=None)

    response = callback(client, sent_message.pk, sent_message.provider_sid, "delivered")

    assert response.status_code == 204
    stored = OutboundMessage.objects.get(pk=sent_message.pk)
    assert (stored.status, stored.provider_sid) == ("delivered", sent_message.provider_sid)
