"""Inbound texts: STOP and its equivalents take effect in the same request; START/YES/HELP;
everything else is handed on as an sms_reply event."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from urllib.parse import urlencode

import pytest
import time_machine
from twilio.request_validator import RequestValidator

from apps.consent.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    Purpose,
    Suppression,
)
from apps.consent.services import consent_opt_in
from apps.contacts.models import Event
from apps.sends.models import InboundMessage, KeywordRule, OutboundMessage
from apps.sends.services.inbound import inbound_reply_handle
from apps.sends.services.messages import message_create
from apps.sends.services.sweep import messages_sweep
from tests.factories import ContactFactory
from tests.sends.conftest import AUTH_TOKEN

pytestmark = pytest.mark.django_db

PATH = "/webhooks/twilio/inbound/"
MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
OUR_NUMBER = "+13125550000"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # replies go to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    with time_machine.travel(MIDDAY, tick=False):
        yield


def text_in(client, sender, body, sid="SM" + "a" * 32, token=AUTH_TOKEN):
    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(token).compute_signature(f"https://cue.example.com{PATH}", params)
    return client.post(
        PATH,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def states(contact) -> dict[str, str]:
    return dict(
        ConsentState.objects.filter(contact=contact, channel="sms").values_list("purpose", "status")
    )


def replies_to(address) -> list[str]:
    return list(
        OutboundMessage.objects.filter(to_address=address, origin="keyword_reply")
        .order_by("id")
        .values_list("body", flat=True)
    )


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "  Stop  ",
        "STOPALL",
        "unsubscribe",
        "CANCEL",
        "end",
        "QUIT",
        "OptOut",
        "REVOKE",
        "stop texting me",
        "Please stop",
        "no more texts",
        "unsubscribe me",
    ],
)
def test_it_opts_out_at_once_for_every_stop_word(client, opted_in_contact, body):
    contact = opted_in_contact()
    response = text_in(client, str(contact.phone), body)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert states(contact) == {"marketing": "opted_out", "transactional": "opted_out"}
    record = ConsentRecord.objects.filter(contact=contact, action="opt_out").first()
    assert (record.source, record.inbound_message_sid) == ("keyword", "SM" + "a" * 32)


def test_it_cancels_queued_messages_and_confirms_once(
    client, opted_in_contact, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    queued = message_create(
        send_key="q",
        origin="journey",
        category="marketing",
        contact=contact,
        body="Acme: tips inside. Reply STOP to opt out.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        text_in(client, str(contact.phone), "STOP", sid="SM1" + "0" * 31)
        text_in(client, str(contact.phone), "stop!!", sid="SM2" + "0" * 31)
    queued.refresh_from_db()
    assert (queued.status, queued.reason_code) == ("canceled", "opted_out")
    [confirmation] = replies_to(str(contact.phone))
    assert "unsubscribed" in confirmation
    reply = OutboundMessage.objects.get(origin="keyword_reply")
    # Sent through the pipeline (the console transport here), after the opt-out.
    assert (reply.category, reply.status) == ("transactional", "delivered")


def test_it_sends_another_confirmation_only_after_five_minutes(client, opted_in_contact):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "STOP", sid="SM1" + "0" * 31)
    with time_machine.travel(MIDDAY + timedelta(minutes=6), tick=False):
        text_in(client, str(contact.phone), "STOP", sid="SM2" + "0" * 31)
    assert len(replies_to(str(contact.phone))) == 2


def test_it_suppresses_an_unknown_sender_who_says_stop(client):
    response = text_in(client, "+14155550999", "STOP")
    assert response.status_code == 200
    entry = Suppression.objects.get(address="+14155550999")
    assert (entry.reason, entry.source) == ("stop_unknown_sender", "keyword")
    assert InboundMessage.objects.get().contact is None


def test_it_changes_nothing_on_a_repeated_webhook(client, opted_in_contact):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "STOP")
    counts = (
        ConsentRecord.objects.count(),
        OutboundMessage.objects.count(),
        InboundMessage.objects.count(),
    )
    text_in(client, str(contact.phone), "STOP")
    assert (
        ConsentRecord.objects.count(),
        OutboundMessage.objects.count(),
        InboundMessage.objects.count(),
    ) == counts


@pytest.mark.parametrize("kind", ["unsigned", "wrong key"])
def test_it_refuses_an_unsigned_text_with_no_side_effect(client, opted_in_contact, kind):
    contact = opted_in_contact()
    if kind == "unsigned":
        response = client.post(
            PATH, {"MessageSid": "SMx", "From": str(contact.phone), "Body": "STOP"}
        )
    else:
        response = text_in(client, str(contact.phone), "STOP", token="not-our-token")
    assert response.status_code == 403
    assert states(contact) == {"marketing": "opted_in"}
    assert InboundMessage.objects.count() == 0


def test_it_resubscribes_on_start_only_where_the_ledger_had_an_opt_in(client, opted_in_contact):
    had_consent, never_had = opted_in_contact(), ContactFactory()
    for contact in (had_consent, never_had):
        text_in(client, str(contact.phone), "STOP", sid=f"SMstop{contact.pk}")
        text_in(client, str(contact.phone), "START", sid=f"SMstart{contact.pk}")
    assert states(had_consent) == {"marketing": "opted_in", "transactional": "opted_in"}
    assert states(never_had) == {"marketing": "opted_out", "transactional": "opted_in"}


def test_it_confirms_a_pending_double_opt_in_on_yes(client):
    contact = ContactFactory()
    consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.WEB_FORM,
    )
    assert states(contact) == {"marketing": "pending"}
    text_in(client, str(contact.phone), "YES")
    assert states(contact) == {"marketing": "opted_in"}
    assert "confirmed" in replies_to(str(contact.phone))[0]


def test_it_treats_yes_without_a_pending_opt_in_as_a_reply(client, opted_in_contact):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "Yes")
    event = Event.objects.get(contact=contact, type="sms_reply")
    assert event.properties["body"] == "Yes"
    assert replies_to(str(contact.phone)) == []


@pytest.mark.parametrize("body", ["HELP", "info"])
def test_it_answers_help_with_brand_contact_and_opt_out(client, opted_in_contact, body):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), body)
    [reply] = replies_to(str(contact.phone))
    assert reply.startswith("Cue Demo:") and "STOP" in reply and "support@example.com" in reply
    assert states(contact) == {"marketing": "opted_in"}


def test_it_stores_other_replies_and_hands_them_to_routing_after_the_answer(
    client, opted_in_contact, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks() as hand_on:
        response = text_in(client, str(contact.phone), "Yes, can someone call me tomorrow?")

    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.contact, inbound.keyword_kind, inbound.outcome, inbound.handled_at) == (
        contact,
        "none",
        "stored; to be handed to routing",
        None,
    )
    assert not Event.objects.exists()  # not in the webhook's request
    assert len(hand_on) == 1

    hand_on[0]()  # the worker's turn (Celery runs eagerly in tests)

    event = Event.objects.get(contact=contact)
    assert (event.type, event.source, event.properties["body"], event.occurred_at) == (
        "sms_reply",
        "sms",
        "Yes, can someone call me tomorrow?",
        inbound.received_at,
    )
    assert event.properties["inbound_message_id"] == inbound.pk
    inbound.refresh_from_db()
    assert (inbound.outcome, inbound.handled_at) == ("handed to routing as sms_reply", MIDDAY)
    assert states(contact) == {"marketing": "opted_in"}
    assert replies_to(str(contact.phone)) == []


def test_it_hands_a_reply_on_once_however_often_its_task_runs(
    client, opted_in_contact, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        text_in(client, str(contact.phone), "Sounds good")
    inbound = InboundMessage.objects.get()

    assert inbound_reply_handle(inbound_id=inbound.pk) is None
    assert inbound_reply_handle(inbound_id=inbound.pk) is None
    assert Event.objects.filter(contact=contact, type="sms_reply").count() == 1


def test_it_answers_a_repeated_reply_webhook_without_handing_it_on_again(
    client, opted_in_contact, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        text_in(client, str(contact.phone), "Sounds good")
    with django_capture_on_commit_callbacks() as hand_on:
        response = text_in(client, str(contact.phone), "Sounds good")

    assert response.status_code == 200
    assert hand_on == []
    assert InboundMessage.objects.count() == 1
    assert Event.objects.filter(contact=contact).count() == 1


def test_the_sweep_hands_on_a_reply_whose_task_was_lost(client, opted_in_contact):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "Sounds good")  # its after-commit hand-on never runs
    inbound = InboundMessage.objects.get()

    with time_machine.travel(MIDDAY + timedelta(seconds=119), tick=False):
        assert messages_sweep()["replies handed on"] == 0  # its task may still be coming
    assert not Event.objects.exists()
    with time_machine.travel(MIDDAY + timedelta(minutes=3), tick=False):
        assert messages_sweep()["replies handed on"] == 1
        assert messages_sweep()["replies handed on"] == 0

    event = Event.objects.get(contact=contact)
    assert (event.type, event.occurred_at) == ("sms_reply", MIDDAY)
    inbound.refresh_from_db()
    assert inbound.outcome == "handed to routing as sms_reply"


def test_a_failing_hand_on_changes_nothing_and_is_tried_again(client, opted_in_contact):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "Sounds good")
    inbound = InboundMessage.objects.get()

    with (
        patch("apps.sends.services.inbound.record_event", side_effect=RuntimeError("db")),
        pytest.raises(RuntimeError),
    ):
        inbound_reply_handle(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    assert (inbound.handled_at, inbound.outcome) == (None, "stored; to be handed to routing")

    assert inbound_reply_handle(inbound_id=inbound.pk) == "handed to routing as sms_reply"
    assert Event.objects.filter(contact=contact).count() == 1


def test_it_sends_a_custom_auto_reply_from_the_hand_on(
    client, opted_in_contact, django_capture_on_commit_callbacks
):
    KeywordRule.objects.create(keyword="PRICING", kind="reply", reply="Acme: plans at acme.test")
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks() as hand_on:
        text_in(client, str(contact.phone), "pricing")
    assert replies_to(str(contact.phone)) == []

    hand_on[0]()

    assert replies_to(str(contact.phone)) == ["Acme: plans at acme.test"]
    assert Event.objects.filter(contact=contact, type="sms_reply").count() == 1


def test_it_stores_a_reply_from_an_unknown_sender_without_an_event(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        text_in(client, "+14155550999", "who is this?")
    inbound = InboundMessage.objects.get()
    assert (inbound.contact, inbound.outcome) == (None, "stored (unknown sender)")
    assert inbound.handled_at is not None
    assert not Event.objects.exists()


@pytest.mark.parametrize("spelling", ["as stored", "formatted"])
def test_it_finds_the_sender_whose_number_is_stored_on_a_contact(
    client, opted_in_contact, spelling
):
    opted_in_contact()
    contact = opted_in_contact(phone="+14155550123")
    sender = "+14155550123" if spelling == "as stored" else "+1 (415) 555-0123"
    text_in(client, sender, "STOP")
    assert InboundMessage.objects.get().contact == contact
    assert states(contact)["marketing"] == "opted_out"


def test_it_honours_a_custom_opt_out_keyword(client, opted_in_contact):
    KeywordRule.objects.create(keyword="BASTA", kind="opt_out")
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "basta")
    assert states(contact)["marketing"] == "opted_out"


def test_a_stored_rule_the_classifier_now_refuses_is_ignored_not_fatal(client, opted_in_contact):
    # Saved before "STP" was read as a misspelt STOP; the admin form refuses it today.
    KeywordRule.objects.create(keyword="STP", kind="opt_in")
    KeywordRule.objects.create(keyword="BASTA", kind="opt_out")
    contact = opted_in_contact()

    response = text_in(client, str(contact.phone), "hello there", sid="SM" + "b" * 32)
    assert response.status_code == 200
    assert InboundMessage.objects.get().body == "hello there"
    assert states(contact)["marketing"] == "opted_in"

    text_in(client, str(contact.phone), "stp")
    assert states(contact)["marketing"] == "opted_out"


def test_it_rejects_a_text_without_sender_with_400(client):
    params = {"MessageSid": "SMz", "Body": "hi"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://cue.example.com{PATH}", params
    )
    response = client.post(PATH, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400
    assert InboundMessage.objects.count() == 0
