"""Drill: the broker is down for a while. The web app keeps taking events and Twilio's
webhooks (what needs no worker takes effect in the request), nothing is lost, and the backlog
drains through the periodic sweeps once the broker is back.

The drill breaks a private redis-server of its own, never the shared broker."""

from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db.models import F
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.consent.models import Channel, ConsentState, ConsentStatus, Purpose
from apps.contacts.models import Event
from apps.contacts.tasks import events_sweep
from apps.journeys.models import Enrollment
from apps.sends.models import InboundMessage, MessageOrigin, MessageStatus, OutboundMessage
from apps.sends.tasks import messages_sweep_task
from tests.brokers import web_broker
from tests.drills.conftest import (
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    WORKER_DRILL,
    minutes_pass,
    posts,
    tasks_to,
    twilio_env,
)
from tests.drills.processes import RedisServer
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template
from tests.workers import celery_worker_process, wait_for

pytestmark = WORKER_DRILL

OUR_NUMBER = "+13125550100"
SWEEP_EVERY = 3.0


def reminder_journey():
    return journey_build(
        name="Webinar reminder",
        trigger_event_type="webinar_registered",
        steps=[
            ("remind", "send_sms", {"template": sms_template().pk, "next": "wait"}),
            ("wait", "wait", {"days": 2, "next": "done"}),
            ("done", "exit", {}),
        ],
    )


def api_client() -> APIClient:
    client = APIClient()
    token = Token.objects.create(user=UserFactory(role=roles.ADMIN))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def event(contact, key: str) -> dict:
    return {
        "type": "webinar_registered",
        "occurred_at": timezone.now().isoformat(),
        "idempotency_key": key,
        "contact": {"id": contact.pk},
    }


def inbound(client, fake, contact, body: str):
    url = f"{PUBLIC_BASE_URL}/webhooks/twilio/inbound/"
    params, headers = fake.signed_inbound(url, str(contact.phone), OUR_NUMBER, body)
    return client.post(urlsplit(url).path, params, headers=headers)


def status_callback(client, fake, sid: str, status: str):
    url, params, headers = fake.signed_status_callback(sid, status)
    fake.set_status(sid, status)
    parts = urlsplit(url)
    return client.post(f"{parts.path}?{parts.query}", params, headers=headers)


def backlog_drained(expected_sends: int) -> bool:
    """Fires the beat's two sweeps (harmless when nothing is due) and reports whether the
    backlog is done: every reply and event handed on and every message with Twilio."""
    events_sweep.delay()
    messages_sweep_task.delay()
    with_twilio = (MessageStatus.SENT, MessageStatus.DELIVERED)
    return (
        not InboundMessage.objects.filter(handled_at=None).exists()
        and not Event.objects.filter(handled_at=None).exists()
        and OutboundMessage.objects.filter(status__in=with_twilio).count() == expected_sends
    )


def test_with_the_broker_down_nothing_is_lost_and_the_backlog_drains(
    fake_twilio, sms_contact, settings
):
    if not RedisServer.available():
        pytest.skip("needs redis-server to run a broker of the drill's own")
    settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = AUTH_TOKEN, PUBLIC_BASE_URL
    journey = reminder_journey()
    client = api_client()
    early, late, stopper, replier = (
        sms_contact(first_name="Early"),
        [sms_contact(first_name=f"Late{i}") for i in range(3)],
        sms_contact(first_name="Stopper"),
        sms_contact(first_name="Replier"),
    )
    broker = RedisServer()
    env = {**twilio_env(fake_twilio), "CELERY_BROKER_URL": broker.url}
    with (
        broker,
        web_broker(broker.url, settings),
        celery_worker_process(env=env) as worker,
        tasks_to(worker.queue),
    ):
        # Given a working pipeline: an event's SMS goes out through the worker
        assert (
            client.post("/api/v1/events/", event(early, "early"), format="json").status_code == 201
        )
        reminded = wait_for(
            lambda: OutboundMessage.objects.filter(contact=early, status="sent").first(),
            timeout=60,
        )
        assert reminded, "the worker never sent the first reminder (see var/test-*.log)"

        # When the broker goes down and requests keep coming
        broker.stop()
        answers = [
            client.post("/api/v1/events/", event(late[0], "late-0"), format="json"),
            client.post(
                "/api/v1/events/",
                {"events": [event(c, f"late-{i}") for i, c in enumerate(late[1:], 1)]},
                format="json",
            ),
            inbound(client, fake_twilio, stopper, "STOP"),
            inbound(client, fake_twilio, replier, "Can someone call me about the pricing?"),
            status_callback(client, fake_twilio, reminded.provider_sid, "delivered"),
        ]

        # Then each was answered as usual, and what needs no worker took effect at once
        assert [answer.status_code for answer in answers] == [201, 200, 200, 200, 204]
        assert answers[1].json()["created"] == 2
        reminded.refresh_from_db()
        assert reminded.status == MessageStatus.DELIVERED
        assert (
            ConsentState.objects.get(
                contact=stopper, channel=Channel.SMS, purpose=Purpose.MARKETING
            ).status
            == ConsentStatus.OPTED_OUT
        )
        assert Event.objects.filter(handled_at=None).count() == 3
        reply = InboundMessage.objects.get(contact=replier)
        assert reply.handled_at is None  # stored; its hand-on to routing waits for a worker
        [confirmation] = OutboundMessage.objects.filter(origin=MessageOrigin.KEYWORD_REPLY)
        assert confirmation.status == MessageStatus.QUEUED

        # When the broker is back and, minutes on, the beat's sweeps run
        broker.start()
        minutes_pass(3)
        for unhandled in (Event.objects, InboundMessage.objects):
            unhandled.filter(handled_at=None).update(
                received_at=F("received_at") - timedelta(minutes=3)
            )
        drained = wait_for(
            lambda: backlog_drained(expected_sends=5),
            timeout=120,
            interval=SWEEP_EVERY,
        )
    assert drained, "the backlog never drained (see var/test-*.log)"

    # Then every event is stored once and handled, each triggered contact got one reminder,
    # the STOP got its one confirmation, and nothing went out twice
    stored = Counter(Event.objects.values_list("contact__first_name", "type"))
    assert stored == {
        ("Early", "webinar_registered"): 1,
        ("Late0", "webinar_registered"): 1,
        ("Late1", "webinar_registered"): 1,
        ("Late2", "webinar_registered"): 1,
        ("Replier", "sms_reply"): 1,
    }
    assert not Event.objects.filter(handled_at=None).exists()
    enrolled = Enrollment.objects.filter(journey=journey)
    assert sorted(enrolled.values_list("contact__first_name", flat=True)) == [
        "Early",
        "Late0",
        "Late1",
        "Late2",
    ]
    assert Counter(p.form["To"] for p in posts(fake_twilio)) == {
        str(contact.phone): 1 for contact in (early, *late, stopper)
    }
    assert {r.status for r in posts(fake_twilio)} == {201}
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SENT
    assert "unsubscribed" in confirmation.body
    assert InboundMessage.objects.count() == 2
