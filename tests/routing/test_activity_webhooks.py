"""Webhooks for SMS activity and consent: message.status, message.clicked, message.replied and
consent.changed reach only the endpoints subscribed to them, signed, with the documented
payloads; nothing is written when nobody listens, and a failing webhook writer never undoes
the change it reports."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.consent.models import ConsentRecord
from apps.consent.services import consent_opt_in
from apps.routing.models import WebhookDelivery, WebhookEndpoint
from apps.routing.services import activity_webhooks
from apps.sends.models import InboundMessage, LinkClick, OutboundMessage
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory
from tests.routing.conftest import TUESDAY_11_NY
from tests.sends.conftest import AUTH_TOKEN
from tests.sends.templates import approved_sms_version
from tests.sends.test_status_webhook import signed_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribe(webhook_receiver):
    def make(*events, name="Other CRM"):
        return WebhookEndpoint.objects.create(
            name=name, url=webhook_receiver.url, secret=webhook_receiver.secret, events=list(events)
        )

    return make


@pytest.fixture
def contact():
    return ContactFactory(
        external_id="crm-7",
        first_name="Priya",
        last_name="N",
        email="priya@example.com",
        phone="+12025550143",
        time_zone="America/New_York",
    )


def contact_block(contact) -> dict:
    return {
        "id": contact.pk,
        "external_id": "crm-7",
        "email": "priya@example.com",
        "phone": "+12025550143",
        "name": "Priya N",
    }


def sent_message(contact, **fields) -> OutboundMessage:
    version = approved_sms_version(name="Webinar reminder")
    message = OutboundMessage.objects.create(
        contact=contact,
        to_address=str(contact.phone),
        template_version=version,
        body="Cue Demo: see you at 3. Reply STOP to opt out.",
        category="marketing",
        origin="journey",
        send_key=f"test-{contact.pk}",
        status="sent",
        provider_sid="SM" + "9" * 32,
        sent_at=timezone.now(),
        **fields,
    )
    return message


def message_block(message, journey=None) -> dict:
    version = message.template_version
    return {
        "message_id": message.pk,
        "channel": "sms",
        "origin": "journey",
        "category": "marketing",
        "journey": journey,
        "template": {
            "id": version.template_id,
            "name": "Webinar reminder",
            "version_id": version.pk,
            "version": 1,
        },
    }


@pytest.fixture
def twilio(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""
    settings.PUBLIC_BASE_URL = "https://cue.example.com"


def test_it_posts_a_reply_signed_to_the_endpoint_subscribed_to_message_replied(
    subscribe, webhook_receiver, contact, text_in, twilio
):
    subscribe("message.replied")
    answered = sent_message(contact)
    text_in(contact, "Yes, call me at 4")
    inbound = InboundMessage.objects.get()
    [received] = webhook_receiver.received
    assert (received["event"], received["verified"]) == ("message.replied", True)
    assert received["body"] == {
        "event": "message.replied",
        "id": f"message.replied:{inbound.pk}",
        "created_at": TUESDAY_11_NY.isoformat(),
        "data": {
            "inbound_message_id": inbound.pk,
            "received_at": TUESDAY_11_NY.isoformat(),
            "from": "+12025550143",
            "to": "+13125550000",
            "body": "Yes, call me at 4",
            "classification": {
                "kind": "none",
                "keyword": "",
                "rule": inbound.classification_rule,
            },
            "outcome": "handed to routing as sms_reply",
            "in_reply_to": message_block(answered),
            "contact": contact_block(contact),
        },
    }
    assert list(WebhookDelivery.objects.values_list("event", "status")) == [
        ("message.replied", "delivered")
    ]


def test_it_posts_a_stop_as_a_reply_and_each_consent_change(
    subscribe, webhook_receiver, contact, text_in, twilio
):
    subscribe("message.replied", "consent.changed")
    consent_opt_in(contact=contact, channel="sms", purpose="marketing", source="api")
    webhook_receiver.received.clear()
    text_in(contact, "stop")
    events = [(r["event"], r["verified"]) for r in webhook_receiver.received]
    assert sorted(events) == [
        ("consent.changed", True),
        ("consent.changed", True),
        ("message.replied", True),
    ]
    reply = next(
        r["body"]["data"] for r in webhook_receiver.received if r["event"] == "message.replied"
    )
    assert (reply["classification"]["kind"], reply["in_reply_to"]) == ("opt_out", None)
    opt_out = ConsentRecord.objects.get(action="opt_out", purpose="marketing")
    marketing = next(
        r["body"]
        for r in webhook_receiver.received
        if r["event"] == "consent.changed" and r["body"]["data"]["purpose"] == "marketing"
    )
    assert marketing == {
        "event": "consent.changed",
        "id": f"consent.changed:{contact.pk}:{opt_out.pk}:marketing",
        "created_at": TUESDAY_11_NY.isoformat(),
        "data": {
            "channel": "sms",
            "purpose": "marketing",
            "old_status": "opted_in",
            "new_status": "opted_out",
            "action": "opt_out",
            "source": "keyword",
            "address": "+12025550143",
            "ledger_record_id": opt_out.pk,
            "at": TUESDAY_11_NY.isoformat(),
            "contact": contact_block(contact),
        },
    }


def test_it_posts_a_delivery_status_once(
    client, subscribe, webhook_receiver, contact, twilio, django_capture_on_commit_callbacks
):
    subscribe("message.status")
    message = sent_message(contact, journey_id=42, step_id=7, enrollment_id=9)
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, message, "delivered")
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, message, "delivered")  # Twilio retries
    [received] = webhook_receiver.received
    assert received["body"] == {
        "event": "message.status",
        "id": f"message.status:{message.pk}:delivered",
        "created_at": TUESDAY_11_NY.isoformat(),
        "data": {
            **message_block(message, journey={"id": 42, "step_id": 7, "enrollment_id": 9}),
            "status": "delivered",
            "at": TUESDAY_11_NY.isoformat(),
            "provider_sid": "SM" + "9" * 32,
            "error_code": "",
            "error_message": "",
            "reason_code": "",
            "contact": contact_block(contact),
        },
    }


def test_it_posts_a_persons_click(
    client, subscribe, webhook_receiver, contact, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    subscribe("message.clicked")
    consent_opt_in(contact=contact, channel="sms", purpose="marketing", source="api")
    message = message_create(
        send_key="demo",
        origin="journey",
        category="marketing",
        contact=contact,
        template_version=approved_sms_version(name="Webinar reminder"),
    )
    link = message.links.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/l/{link.token}", headers={"User-Agent": "Mozilla/5.0 (iPhone) Safari/604"})
    click = LinkClick.objects.get()
    [received] = webhook_receiver.received
    assert received["body"]["data"] == {
        "click_id": click.pk,
        "at": TUESDAY_11_NY.isoformat(),
        "link": {"key": "details", "key_link": True, "url": "https://www.example.com/demo"},
        "message": message_block(message),
        "contact": contact_block(contact),
    }


def test_it_writes_nothing_for_endpoints_subscribed_to_other_events(
    client, subscribe, webhook_receiver, contact, text_in, twilio
):
    subscribe("task.created", "task.completed")
    turned_off = subscribe("message.status", "message.replied", name="Turned off")
    WebhookEndpoint.objects.filter(pk=turned_off.pk).update(is_active=False)
    message = sent_message(contact)
    consent_opt_in(contact=contact, channel="sms", purpose="marketing", source="api")
    signed_post(client, message, "delivered")
    text_in(contact, "STOP")
    assert (WebhookDelivery.objects.count(), webhook_receiver.received) == (0, [])


def test_it_checks_once_and_reads_nothing_more_when_nobody_listens(
    client, subscribe, contact, twilio
):
    subscribe("task.created")
    message = sent_message(contact)
    with CaptureQueriesContext(connection) as queries:
        signed_post(client, message, "delivered")
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if "routing_webhookendpoint" in s]) == 1
    assert not [s for s in sql if "contacts_contact" in s or "library_" in s]


def test_a_failing_webhook_writer_never_undoes_the_status_it_reports(
    client, subscribe, contact, twilio, monkeypatch, caplog
):
    subscribe("message.status")
    message = sent_message(contact)

    def broken(events):
        WebhookDelivery.objects.create(
            endpoint=WebhookEndpoint.objects.get(), event="message.status", key="half", payload={}
        )
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(activity_webhooks, "webhook_events_enqueue", broken)
    with caplog.at_level(logging.ERROR, logger="apps.core.hooks"):
        assert signed_post(client, message, "delivered").status_code == 204
    message.refresh_from_db()
    assert message.status == "delivered"
    assert WebhookDelivery.objects.count() == 0  # its half-written row rolled back alone
    [logged] = [r for r in caplog.records if r.name == "apps.core.hooks"]
    assert logged.getMessage() == (
        "sends.message_outcome handler 'routing.webhooks' failed on 1 record(s) "
        f"(message:{message.pk}:delivered); the change stands"
    )


def test_it_retries_an_activity_webhook_like_any_other(
    now, subscribe, webhook_receiver, contact, text_in, twilio
):
    from apps.routing.services import webhooks_due_sweep

    subscribe("message.replied")
    webhook_receiver.codes = [503]
    text_in(contact, "Interested, call me")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 503)
    now.shift(timedelta(hours=1).total_seconds())
    webhooks_due_sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [r["verified"] for r in webhook_receiver.received] == [True, True]
