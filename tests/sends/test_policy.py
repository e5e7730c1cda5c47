"""Every rule of the policy gate, in the order it applies, with what it records."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.consent.models import Channel, ConsentSource, Purpose, Suppression
from apps.consent.services import consent_opt_in, consent_revoke_channel, suppression_add
from apps.sends.models import FrequencyCap, MessageEvent, MessageStatus, OutboundMessage
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# 16:00 UTC on a Tuesday = 11:00 in Chicago, 09:00 in Los Angeles, 12:00 in New York.
MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def marketing(contact, key="m1", **fields):
    return message_create(
        send_key=key,
        origin="journey",
        category="marketing",
        contact=contact,
        body="Acme: your webinar starts soon. Reply STOP to opt out.",
        **fields,
    )


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


def test_it_queues_a_marketing_message_to_a_confirmed_opt_in(opted_in_contact):
    message = marketing(opted_in_contact())
    assert (message.status, message.decision, message.reason_code) == ("queued", "allow", "allowed")
    assert message.queued_at == MIDDAY
    decision = MessageEvent.objects.get(message=message, kind="decision")
    assert decision.detail["stage"] == "create"
    ledger_row = message.contact.consent_records.get()
    # An allowed message keeps what each rule found, for "why sent"
    assert decision.detail["inputs"] == {
        "passed": [
            {"rule": "suppression"},
            {
                "rule": "consent",
                "purpose": "marketing",
                "status": "opted_in",
                "record_id": ledger_row.pk,
                "recorded_at": ledger_row.occurred_at.isoformat(),
                "source": "api",
            },
            {"rule": "preferences", "set": False},
            {"rule": "extra", "checks": ["sender_registration", "journeys"]},
            {
                "rule": "quiet_hours",
                "zones": ["America/Chicago"],
                "zone_source": "contact",
                "window_rule": "default",
                "local_times": ["11:00"],
            },
            {
                "rule": "caps",
                "counts": [
                    {"cap": "Marketing SMS: 1 a day", "used": 0, "max": 1},
                    {"cap": "Marketing SMS: 3 a week", "used": 0, "max": 3},
                ],
            },
        ]
    }


def test_it_suppresses_a_number_on_the_suppression_list_before_anything_else(opted_in_contact):
    contact = opted_in_contact()
    suppression_add(
        address=str(contact.phone), reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
    )
    message = marketing(contact)
    assert (message.status, message.reason_code) == ("suppressed", "suppressed_manual")
    assert message.queued_at is None


@pytest.mark.parametrize(
    ("consent", "reason_code"),
    [(None, "consent_none"), ("pending", "consent_pending"), ("opted_out", "consent_opted_out")],
)
def test_it_requires_a_confirmed_opt_in_for_marketing(consent, reason_code):
    contact = ContactFactory(time_zone="America/Chicago")
    if consent == "pending":
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.WEB_FORM,
        )
    if consent == "opted_out":
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
        )
        consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    message = marketing(contact)
    assert (message.status, message.reason_code) == ("suppressed", reason_code)


def test_it_lets_transactional_through_without_opt_in_but_not_after_an_opt_out():
    contact = ContactFactory(time_zone="America/Chicago")
    first = message_create(
        send_key="t1",
        origin="journey",
        category="transactional",
        contact=contact,
        body="Your meeting is confirmed for 3 pm.",
    )
    consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    second = message_create(
        send_key="t2",
        origin="journey",
        category="transactional",
        contact=contact,
        body="Reminder: meeting at 3 pm.",
    )
    assert (first.status, second.status, second.reason_code) == (
        "queued",
        "suppressed",
        "consent_opted_out",
    )


def test_it_defers_to_the_next_morning_in_the_recipients_zone(opted_in_contact):
    contact = opted_in_contact(time_zone="America/New_York")
    at_night = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)  # 22:30 in New York
    with time_machine.travel(at_night, tick=False):
        message = marketing(contact)
    assert (message.status, message.reason_code) == ("deferred", "quiet_hours")
    assert message.next_attempt_at == datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert "America/New_York" in message.reason


def test_it_applies_florida_hours_by_address(opted_in_contact):
    contact = opted_in_contact(time_zone="America/New_York", region="FL")
    with time_machine.travel(datetime(2026, 3, 11, 0, 30, tzinfo=UTC), tick=False):  # 20:30 EDT
        message = marketing(contact)
    assert (message.status, message.next_attempt_at) == (
        "deferred",
        datetime(2026, 3, 11, 12, 0, tzinfo=UTC),
    )


def test_it_requires_every_zone_of_a_multi_zone_number(opted_in_contact):
    # +1 208 may be Boise (Mountain) or the Idaho panhandle (Pacific).
    contact = opted_in_contact(time_zone="", region="", phone="+12085550123")
    with time_machine.travel(datetime(2026, 3, 10, 14, 30, tzinfo=UTC), tick=False):
        message = marketing(contact)  # 08:30 in Boise, 07:30 in Los Angeles
    assert (message.status, message.next_attempt_at) == (
        "deferred",
        datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
    )
    assert message.log.get(kind="decision").detail["inputs"]["zone_source"] == "phone"


def test_it_holds_and_flags_a_message_whose_zone_is_unknown(opted_in_contact):
    contact = opted_in_contact(time_zone="", region="", country="GB", phone="+447700900123")
    message = marketing(contact)
    assert (message.status, message.decision, message.reason_code) == (
        "held",
        "hold",
        "zone_unknown",
    )
    assert message.next_attempt_at is None


def test_it_caps_marketing_at_one_a_day_by_default(opted_in_contact):
    contact = opted_in_contact()
    first = marketing(contact, key="a")
    second = marketing(contact, key="b")
    assert (first.status, second.status, second.reason_code) == (
        "queued",
        "suppressed",
        "frequency_cap",
    )


def test_it_frees_the_cap_when_a_reserved_message_fails(opted_in_contact):
    contact = opted_in_contact()
    first = marketing(contact, key="a")
    OutboundMessage.objects.filter(pk=first.pk).update(status=MessageStatus.FAILED)
    assert marketing(contact, key="b").status == "queued"


def test_it_caps_florida_at_three_a_day_whatever_else_allows(opted_in_contact):
    FrequencyCap.objects.filter(region="").update(is_active=False)
    contact = opted_in_contact(time_zone="America/New_York", region="FL")
    statuses = [marketing(contact, key=f"fl{i}").status for i in range(4)]
    assert statuses == ["queued", "queued", "queued", "suppressed"]


def test_it_refuses_the_same_template_version_twice_in_the_window(opted_in_contact):
    from tests.sends.templates import approved_sms_version

    FrequencyCap.objects.update(is_active=False)
    contact = opted_in_contact()
    version = approved_sms_version()
    first = message_create(
        send_key="v1",
        origin="journey",
        category="marketing",
        contact=contact,
        template_version=version,
    )
    second = message_create(
        send_key="v2",
        origin="journey",
        category="marketing",
        contact=contact,
        template_version=version,
    )
    assert (first.status, second.status, second.reason_code) == (
        "queued",
        "suppressed",
        "duplicate",
    )


def test_it_creates_one_message_per_send_key(opted_in_contact):
    contact = opted_in_contact()
    first = marketing(contact, key="same")
    again = marketing(contact, key="same")
    assert again.pk == first.pk
    assert OutboundMessage.objects.count() == 1


def test_it_lets_a_stop_confirmation_reach_an_opted_out_number(opted_in_contact):
    contact = opted_in_contact()
    consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    suppression_add(
        address=str(contact.phone), reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
    )
    with time_machine.travel(datetime(2026, 3, 11, 5, 0, tzinfo=UTC), tick=False):  # 23:00 CST
        reply = message_create(
            send_key="stop-confirm",
            origin="keyword_reply",
            category="transactional",
            contact=contact,
            body="You're unsubscribed. No more messages.",
        )
    assert reply.status == "queued"


def test_it_refuses_an_unapproved_template_version(opted_in_contact):
    from apps.sends.errors import SendsError
    from tests.sends.templates import draft_sms_version

    with pytest.raises(SendsError) as error:
        message_create(
            send_key="d",
            origin="journey",
            category="marketing",
            contact=opted_in_contact(),
            template_version=draft_sms_version(),
        )
    assert error.value.field == "template_version"
    assert OutboundMessage.objects.count() == 0


def test_it_refuses_nothing_to_a_deferred_message_released_later(opted_in_contact):
    from apps.sends.services.sweep import messages_sweep

    contact = opted_in_contact(time_zone="America/New_York")
    with time_machine.travel(datetime(2026, 3, 11, 2, 30, tzinfo=UTC), tick=False):
        message = marketing(contact)
    with time_machine.travel(datetime(2026, 3, 11, 11, 59, tzinfo=UTC), tick=False):
        assert messages_sweep()["released"] == 0
    with time_machine.travel(
        datetime(2026, 3, 11, 12, 0, tzinfo=UTC) + timedelta(seconds=1), tick=False
    ):
        assert messages_sweep()["released"] == 1
    message.refresh_from_db()
    assert (message.status, message.reason_code) == ("queued", "allowed")
    stages = list(message.log.filter(kind="decision").values_list("detail__stage", flat=True))
    assert stages == ["create", "release"]
