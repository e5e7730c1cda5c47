"""A message held because the recipient's zone is unknown is never left forever: fixing the
contact gates it again, and it expires with a reason after CUE_HELD_MESSAGE_EXPIRY_HOURS."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.sends.models import MessageEvent, MessageStatus
from apps.sends.services.messages import message_create
from apps.sends.services.sweep import messages_sweep

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 12:00 in Chicago
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."
UNPLACEABLE_PHONE = "+15551234567"  # no area code libphonenumber can place


@pytest.fixture
def held(opted_in_contact):
    with time_machine.travel(MIDDAY, tick=False):
        contact = opted_in_contact(time_zone="", region="", phone=UNPLACEABLE_PHONE)
        message = message_create(
            send_key="k1", origin="journey", category="marketing", contact=contact, body=BODY
        )
    assert (message.status, message.reason_code) == (MessageStatus.HELD, "zone_unknown")
    return message


def sweep_at(moment: datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return messages_sweep()


def decisions(message) -> list[tuple[str, str]]:
    return [
        (event.detail["stage"], event.detail["reason_code"])
        for event in MessageEvent.objects.filter(
            message=message, kind=MessageEvent.Kind.DECISION
        ).order_by("at", "id")
    ]


def test_it_queues_a_held_message_once_the_contact_gets_a_zone(held):
    # Given the contact's zone is filled in after the message was held
    with time_machine.travel(MIDDAY + timedelta(minutes=5), tick=False):
        held.contact.time_zone = "America/Chicago"
        held.contact.save()

    # When the sweep runs
    result = sweep_at(MIDDAY + timedelta(minutes=6))

    # Then the message is gated again and queued
    held.refresh_from_db()
    assert (result["held gated again"], result["held expired"]) == (1, 0)
    assert held.status == MessageStatus.QUEUED
    assert decisions(held) == [("create", "zone_unknown"), ("regate", "allowed")]


def test_it_leaves_a_held_message_alone_while_the_contact_is_unchanged(held):
    result = sweep_at(MIDDAY + timedelta(minutes=6))
    held.refresh_from_db()
    assert (result["held gated again"], held.status) == (0, MessageStatus.HELD)
    assert decisions(held) == [("create", "zone_unknown")]


def test_it_holds_again_when_the_change_did_not_place_the_contact(held):
    with time_machine.travel(MIDDAY + timedelta(minutes=5), tick=False):
        held.contact.first_name = "Renamed"
        held.contact.save()
    first = sweep_at(MIDDAY + timedelta(minutes=6))
    second = sweep_at(MIDDAY + timedelta(minutes=7))
    held.refresh_from_db()
    assert (first["held gated again"], second["held gated again"]) == (1, 0)
    assert held.status == MessageStatus.HELD
    assert decisions(held) == [("create", "zone_unknown"), ("regate", "zone_unknown")]


def test_it_expires_a_message_held_past_the_configured_time(held, settings):
    settings.CUE_HELD_MESSAGE_EXPIRY_HOURS = 72
    not_yet = sweep_at(MIDDAY + timedelta(hours=71, minutes=59))
    held.refresh_from_db()
    assert (not_yet["held expired"], held.status) == (0, MessageStatus.HELD)

    expired = sweep_at(MIDDAY + timedelta(hours=72, minutes=1))

    held.refresh_from_db()
    assert expired["held expired"] == 1
    assert (held.status, held.reason_code) == (MessageStatus.CANCELED, "held_expired")
    assert held.reason == (
        "Held for more than 72 h without a known time zone or sending rule; expired."
    )
    # and it is not gated again afterwards, whatever happens to the contact
    held.contact.time_zone = "America/Chicago"
    held.contact.save()
    assert sweep_at(MIDDAY + timedelta(hours=73))["held gated again"] == 0
