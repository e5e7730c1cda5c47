"""Races that only a real database with row locks can show: run on PostgreSQL."""

from datetime import time

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.sends.models import FrequencyCap, MessageStatus, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]

ALL_DAY = (time(0), time(23, 59, 59))
BODY = "Acme: new route planner tips inside. Reply STOP to opt out."


def test_it_sends_exactly_three_when_ten_workers_race_a_cap_of_three(
    fake_twilio, opted_in_contact, settings
):
    settings.CUE_QUIET_HOURS_DEFAULT = ALL_DAY
    FrequencyCap.objects.update(is_active=False)
    FrequencyCap.objects.create(name="race", category="marketing", window_hours=24, max_messages=3)
    contact = opted_in_contact()

    def create(i):
        # Tasks run eagerly here, so each message is dispatched right after its commit,
        # as a worker would: ten creators and ten dispatches race for three places.
        message = message_create(
            send_key=f"race-{i}",
            origin="journey",
            category="marketing",
            contact=contact,
            body=f"{BODY} #{i}",
        )
        return message.pk

    ids = in_threads(10, create)
    statuses = sorted(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == ["sent"] * 3 + ["suppressed"] * 7
    assert len(fake_twilio.messages_sent()) == 3


def test_it_calls_twilio_once_when_two_workers_dispatch_the_same_message(
    fake_twilio, opted_in_contact, settings
):
    # Deferred at creation (no enqueue), then released to the queue without an enqueue:
    # the two workers below are the only dispatchers.
    settings.CUE_QUIET_HOURS_DEFAULT = (time(0), time(0, 0, 1))
    message = message_create(
        send_key="once",
        origin="journey",
        category="marketing",
        contact=opted_in_contact(),
        body=BODY,
    )
    assert message.status == "deferred"
    OutboundMessage.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED)
    settings.CUE_QUIET_HOURS_DEFAULT = ALL_DAY
    results = in_threads(2, lambda i: message_dispatch(message_id=message.pk))
    assert sorted(results) == ["not_claimed", "sent"]
    assert len(fake_twilio.messages_sent()) == 1
