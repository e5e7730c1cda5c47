"""Frequency caps count a message from when it went out, and hold again at dispatch."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.sends.models import FrequencyCap, MessageStatus, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create

pytestmark = pytest.mark.django_db

# Tuesday 16:00 UTC: 11:00 in Miami. A day earlier was also inside Florida's hours.
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture
def florida(opted_in_contact):
    """A Florida lead under only Florida's cap: 3 marketing texts per 24 hours."""
    FrequencyCap.objects.filter(region="").update(is_active=False)
    return opted_in_contact(time_zone="America/New_York", region="FL")


def marketing(contact, key):
    return message_create(
        send_key=key,
        origin="journey",
        category="marketing",
        contact=contact,
        body="Cue Demo: your webinar starts soon. Reply STOP to opt out.",
    )


def three_sent(contact, *, queued_at, sent_at, fake_twilio):
    with time_machine.travel(queued_at, tick=False):
        messages = [marketing(contact, f"early-{i}") for i in range(3)]
    with time_machine.travel(sent_at, tick=False):
        for message in messages:
            assert message_dispatch(message_id=message.pk) == "sent"
    assert len(fake_twilio.messages_sent()) == 3
    return messages


def test_a_text_queued_over_24_hours_ago_but_sent_within_them_counts(florida, fake_twilio):
    three_sent(
        florida,
        queued_at=NOW - timedelta(hours=24, minutes=5),
        sent_at=NOW - timedelta(hours=23, minutes=30),
        fake_twilio=fake_twilio,
    )

    with time_machine.travel(NOW, tick=False):
        fourth = marketing(florida, "fourth")

    assert (fourth.status, fourth.reason_code) == ("suppressed", "frequency_cap")
    assert fourth.log.get(kind="decision").detail["inputs"]["used"] == 3
    assert len(fake_twilio.messages_sent()) == 3


@pytest.mark.parametrize(
    ("sent_ago", "fourth_status"),
    [
        (timedelta(hours=24), "suppressed"),  # the window includes its first moment
        (timedelta(hours=24, seconds=1), "queued"),
    ],
)
def test_the_window_starts_exactly_24_hours_before(florida, fake_twilio, sent_ago, fourth_status):
    three_sent(
        florida,
        queued_at=NOW - timedelta(hours=25),
        sent_at=NOW - sent_ago,
        fake_twilio=fake_twilio,
    )

    with time_machine.travel(NOW, tick=False):
        fourth = marketing(florida, "fourth")

    assert fourth.status == fourth_status


def test_dispatch_refuses_a_text_when_the_cap_was_reached_after_it_was_queued(florida, fake_twilio):
    with time_machine.travel(NOW - timedelta(hours=24, minutes=5), tick=False):
        early = [marketing(florida, f"early-{i}") for i in range(3)]
    # Their send calls fail as far as Cue knows, so a fourth is queued.
    OutboundMessage.objects.filter(pk__in=[m.pk for m in early]).update(status=MessageStatus.FAILED)
    with time_machine.travel(NOW - timedelta(minutes=10), tick=False):
        fourth = marketing(florida, "fourth")
    assert fourth.status == "queued"
    # A reconciliation then finds that Twilio had sent the three 23 h 30 min ago.
    OutboundMessage.objects.filter(pk__in=[m.pk for m in early]).update(
        status=MessageStatus.SENT, sent_at=NOW - timedelta(hours=23, minutes=30)
    )

    with time_machine.travel(NOW, tick=False):
        outcome = message_dispatch(message_id=fourth.pk)

    fourth.refresh_from_db()
    assert (outcome, fourth.status, fourth.reason_code) == (
        "suppressed",
        "suppressed",
        "frequency_cap",
    )
    assert fake_twilio.messages_sent() == []


def test_dispatch_does_not_count_the_message_it_is_sending(florida, fake_twilio):
    with time_machine.travel(NOW, tick=False):
        messages = [marketing(florida, f"m{i}") for i in range(3)]
        outcomes = [message_dispatch(message_id=message.pk) for message in messages]

    assert outcomes == ["sent", "sent", "sent"]
    assert len(fake_twilio.messages_sent()) == 3


def test_a_text_still_waiting_for_its_transport_holds_its_place_whatever_its_age(
    florida, fake_twilio
):
    with time_machine.travel(NOW - timedelta(hours=26), tick=False):
        waiting = [marketing(florida, f"waiting-{i}") for i in range(3)]

    with time_machine.travel(NOW, tick=False):
        fourth = marketing(florida, "fourth")

    assert all(m.status == "queued" for m in waiting)
    assert (fourth.status, fourth.reason_code) == ("suppressed", "frequency_cap")


def test_a_template_version_sent_within_the_duplicate_window_counts_though_queued_before(
    opted_in_contact, fake_twilio, settings
):
    from tests.sends.templates import approved_sms_version

    FrequencyCap.objects.update(is_active=False)
    settings.CUE_DUPLICATE_WINDOW_HOURS = 24
    contact = opted_in_contact(time_zone="America/New_York")
    version = approved_sms_version()

    def send(key):
        return message_create(
            send_key=key, origin="journey", category="marketing", contact=contact,
            template_version=version,
        )  # fmt: skip

    with time_machine.travel(NOW - timedelta(hours=24, minutes=5), tick=False):
        first = send("v1")
    with time_machine.travel(NOW - timedelta(hours=23, minutes=30), tick=False):
        assert message_dispatch(message_id=first.pk) == "sent"
    with time_machine.travel(NOW, tick=False):
        again = send("v2")

    assert (again.status, again.reason_code) == ("suppressed", "duplicate")
    assert again.reason == (
        "The same template version already went to this contact at 2026-03-09 16:30 UTC."
    )
