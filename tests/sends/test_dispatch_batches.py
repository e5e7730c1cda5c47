"""Dispatch in batches: one task claims many queued messages, gates them again, takes their
pacing slots in one step and sends each once through one reused Twilio client; the sweep
never enqueues a message whose dispatch task is still live."""

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from apps.consent.models import Channel, ConsentSource
from apps.consent.services import consent_revoke_channel
from apps.sends.models import FrequencyCap, MessageEvent, OutboundMessage
from apps.sends.services.dispatch import (
    DISPATCH_BATCH,
    DISPATCH_TASK_LIVES,
    messages_dispatch,
    messages_enqueue,
)
from apps.sends.services.messages import message_create
from apps.sends.services.pacing import pace_slots_take
from apps.sends.services.sweep import messages_sweep
from apps.sends.tasks import messages_dispatch_task
from apps.sends.transports.twilio import TwilioTransport

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."
REDIS_URL = os.environ.get("CELERY_BROKER_URL", "")


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def enqueued(monkeypatch):
    """The batches handed to the broker, instead of run."""
    batches = []
    monkeypatch.setattr(
        messages_dispatch_task, "apply_async", lambda args, **options: batches.append(args[0])
    )
    return batches


def flat(batches: list[list[int]]) -> list[int]:
    return [pk for batch in batches for pk in batch]


def queued_messages(opted_in_contact, count: int) -> list[OutboundMessage]:
    return [
        message_create(
            send_key=f"batch:{n}",
            origin="journey",
            category="marketing",
            contact=opted_in_contact(),
            body=BODY,
        )
        for n in range(count)
    ]


def test_one_batch_sends_each_allowed_message_once_and_lets_a_stop_win(
    fake_twilio, opted_in_contact
):
    # Given three queued messages, one of whose recipients texted STOP since
    fine, also_fine, stopped = queued_messages(opted_in_contact, 3)
    consent_revoke_channel(
        contact=stopped.contact, channel=Channel.SMS, source=ConsentSource.KEYWORD
    )
    ids = [fine.pk, also_fine.pk, stopped.pk, 999_999]

    # When one batch dispatches them (and an unknown id), then the same batch again
    first = messages_dispatch(message_ids=ids)
    again = messages_dispatch(message_ids=ids)

    # Then the two allowed are sent once each, the stopped one is suppressed without a call
    assert first == {
        fine.pk: "sent",
        also_fine.pk: "sent",
        stopped.pk: "suppressed",
        999_999: "not_claimed",
    }
    assert again == dict.fromkeys(ids, "not_claimed")
    assert sorted(sent["To"] for sent in fake_twilio.messages_sent()) == sorted(
        [fine.to_address, also_fine.to_address]
    )
    rows = {m.pk: m for m in OutboundMessage.objects.filter(pk__in=ids)}
    assert [(rows[pk].status, rows[pk].attempts) for pk in ids[:3]] == [
        ("sent", 1),
        ("sent", 1),
        ("suppressed", 1),
    ]
    assert set(fake_twilio.message_sids()) == {
        rows[fine.pk].provider_sid,
        rows[also_fine.pk].provider_sid,
    }
    assert list(fine.log.order_by("pk").values_list("kind", "status")) == [
        ("decision", "queued"),
        ("transition", "sending"),
        ("provider", "sent"),
    ]
    assert MessageEvent.objects.filter(message=stopped, kind="provider").count() == 0


def test_a_batch_takes_only_the_slots_in_reach_and_hands_the_rest_back_unattempted(
    fake_twilio, opted_in_contact, settings, enqueued
):
    # Given 28 queued messages and a sender paced at 4 a second (6 s of slots: 25)
    settings.CUE_SEND_RATES = {"default": 4.0}
    messages = queued_messages(opted_in_contact, 28)

    # When one batch dispatches them
    outcomes = messages_dispatch(message_ids=[m.pk for m in messages])

    # Then 25 are sent at their slots and three go back to the queue with no attempt
    # used, due when the sender's next slot is free, in one enqueued batch
    assert list(outcomes.values()) == ["sent"] * 25 + ["repaced"] * 3
    assert len(fake_twilio.messages_sent()) == 25
    handed_back = OutboundMessage.objects.filter(pk__in=[m.pk for m in messages[25:]])
    assert set(handed_back.values_list("status", "attempts", "next_attempt_at")) == {
        ("queued", 0, MIDDAY + timedelta(seconds=6.25))
    }
    assert enqueued == [[m.pk for m in messages[25:]]]

    # And when that batch comes round before its slot is near, it goes back unclaimed
    assert messages_dispatch(message_ids=[m.pk for m in messages[25:]]) == dict.fromkeys(
        [m.pk for m in messages[25:]], "repaced"
    )
    assert set(handed_back.values_list("status", "attempts")) == {("queued", 0)}
    assert enqueued == [[m.pk for m in messages[25:]]] * 2
    assert len(fake_twilio.messages_sent()) == 25


def test_every_send_goes_through_one_reused_client(fake_twilio):
    assert TwilioTransport().client is TwilioTransport().client


def test_a_transaction_queuing_many_messages_enqueues_them_in_batches(
    opted_in_contact, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        messages = queued_messages(opted_in_contact, DISPATCH_BATCH + 3)
    ids = [m.pk for m in messages]
    assert enqueued == [ids[:DISPATCH_BATCH], ids[DISPATCH_BATCH:]]
    expiry = set(OutboundMessage.objects.values_list("dispatch_task_expires_at", flat=True))
    assert expiry == {MIDDAY + DISPATCH_TASK_LIVES}


def test_the_sweep_never_enqueues_a_message_whose_task_is_still_waiting(
    opted_in_contact, enqueued, django_capture_on_commit_callbacks
):
    # Given a long queue: 120 messages enqueued whose tasks wait behind other work
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ids = [m.pk for m in queued_messages(opted_in_contact, 120)]
    assert flat(enqueued) == ids

    # When the sweep runs every few minutes while the tasks could still run
    swept = []
    for minutes in (3, 5, 10, 14):
        with time_machine.travel(MIDDAY + timedelta(minutes=minutes), tick=False):
            swept.append(messages_sweep()["enqueued"])

    # Then it enqueues nothing; once the tasks have expired unrun, each message once
    assert swept == [0, 0, 0, 0]
    assert flat(enqueued) == ids
    for minutes in (16, 20):
        with time_machine.travel(MIDDAY + timedelta(minutes=minutes), tick=False):
            swept.append(messages_sweep()["enqueued"])
    assert swept[4:] == [120, 0]
    assert flat(enqueued) == ids + ids


def test_a_lost_enqueue_is_enqueued_by_the_sweep(opted_in_contact, monkeypatch):
    # Given a broker that is down when the message is queued
    def down(*args, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(messages_dispatch_task, "apply_async", down)
    [message] = queued_messages(opted_in_contact, 1)
    assert messages_enqueue(message_ids=[message.pk]) == 0
    message.refresh_from_db()
    assert message.dispatch_task_expires_at is None
    # When the broker is back and the sweep runs after the lost-enqueue delay
    batches = []
    monkeypatch.setattr(
        messages_dispatch_task, "apply_async", lambda args, **options: batches.append(args[0])
    )
    with time_machine.travel(MIDDAY + timedelta(minutes=3), tick=False):
        assert messages_sweep()["enqueued"] == 1
    assert batches == [[message.pk]]


@pytest.mark.parametrize("store", ["database row", "redis"])
def test_a_batch_takes_consecutive_slots_within_reach(store, settings):
    if store == "redis":
        if not REDIS_URL.startswith("redis://"):
            pytest.skip("Redis pacing runs where Redis is the broker (CI's PostgreSQL pass)")
        settings.CUE_PACING_REDIS_URL = REDIS_URL
    sender = f"MG-test-{uuid.uuid4().hex[:12]}"

    first = pace_slots_take(sender=sender, rate=10.0, count=5, max_wait=0.25)
    second = pace_slots_take(sender=sender, rate=10.0, count=5, max_wait=0.25)
    later = pace_slots_take(
        sender=sender, rate=10.0, count=2, max_wait=0.25, at=MIDDAY + timedelta(seconds=10)
    )

    def seconds(moments):
        return [round((m - MIDDAY).total_seconds(), 3) for m in moments]

    assert (seconds(first.taken), seconds([first.next_free_at])) == ([0.0, 0.1, 0.2], [0.3])
    # 0.3 is 0.3 s away, beyond reach: nothing taken, the schedule unchanged
    assert (second.taken, seconds([second.next_free_at])) == ([], [0.3])
    assert seconds(later.taken) == [10.0, 10.1]


def test_a_contacts_two_messages_in_one_batch_are_gated_one_after_the_other(
    fake_twilio, opted_in_contact
):
    # Given two marketing texts queued for one contact while no cap applied, then the
    # "1 a day" cap in force again
    FrequencyCap.objects.update(is_active=False)
    contact = opted_in_contact()
    first, second = (
        message_create(
            send_key=f"pair:{n}",
            origin="journey",
            category="marketing",
            contact=contact,
            body=f"{BODY} ({n})",
        )
        for n in (1, 2)
    )
    assert (first.status, second.status) == ("queued", "queued")
    FrequencyCap.objects.filter(name="Marketing SMS: 1 a day").update(is_active=True)

    # When one batch dispatches both
    outcomes = messages_dispatch(message_ids=[first.pk, second.pk])

    # Then the cap holds inside the batch: one is sent, the other refused by the cap
    statuses = sorted(
        OutboundMessage.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "status", "reason_code"
        )
    )
    assert statuses == [("sent", "allowed"), ("suppressed", "frequency_cap")]
    assert sorted(outcomes.values()) == ["sent", "suppressed"]
    assert [p["To"] for p in fake_twilio.messages_sent()] == [str(contact.phone)]
