"""Dispatch through the real twilio client to the fake Twilio server: exactly one provider
call per intended message, typed errors, reconciliation instead of blind resends."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.consent.models import Channel, ConsentRecord, ConsentSource, ConsentState, Suppression
from apps.consent.services import consent_revoke_channel
from apps.sends.models import MessageStatus, OutboundMessage, SenderPace
from apps.sends.services.dispatch import PACED_RETURN_EARLY, message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.services.sweep import message_reconcile
from apps.sends.tasks import messages_dispatch_task

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


def queued(contact, key="m1") -> OutboundMessage:
    message = message_create(
        send_key=key, origin="journey", category="marketing", contact=contact, body=BODY
    )
    assert message.status == "queued"
    return message


def test_it_sends_once_with_callback_and_validity(fake_twilio, opted_in_contact):
    contact = opted_in_contact()
    message = queued(contact)
    assert message_dispatch(message_id=message.pk) == "sent"
    [sent] = fake_twilio.messages_sent()
    assert sent["To"] == str(contact.phone)
    assert sent["Body"] == BODY
    assert sent["MessagingServiceSid"] == "MG" + "2" * 32
    assert (
        sent["StatusCallback"] == f"https://cue.example.com/webhooks/twilio/status/?m={message.pk}"
    )
    # 11:00 in Chicago: the window closes at 21:00, ten hours (Twilio's maximum) away.
    assert sent["ValidityPeriod"] == "36000"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.provider_sid.startswith("SM")


def test_it_calls_the_provider_once_when_dispatched_twice(fake_twilio, opted_in_contact):
    message = queued(opted_in_contact())
    results = [message_dispatch(message_id=message.pk) for _ in range(2)]
    assert results == ["sent", "not_claimed"]
    assert len(fake_twilio.messages_sent()) == 1


def test_it_uses_up_no_attempt_when_pacing_hands_the_message_back(
    fake_twilio, opted_in_contact, monkeypatch
):
    # Given a sender whose next free slot is a minute away
    message = queued(opted_in_contact())
    slot = MIDDAY + timedelta(minutes=1)
    SenderPace.objects.create(sender="MG" + "2" * 32, next_slot_at=slot)
    enqueued = []
    monkeypatch.setattr(messages_dispatch_task, "apply_async", lambda *a, **kw: enqueued.append(kw))

    # When it is dispatched three times before that slot, then once at it
    early = [message_dispatch(message_id=message.pk) for _ in range(3)]
    message.refresh_from_db()
    handed_back = (message.status, message.attempts, message.next_attempt_at)
    with time_machine.travel(slot, tick=False):
        on_time = message_dispatch(message_id=message.pk)

    # Then the three went back to the broker without a claim or a call (the batch only
    # looked at the schedule), and the one send is its first attempt
    assert (early, handed_back) == (["repaced"] * 3, ("queued", 0, None))
    # Each comes back PACED_RETURN_EARLY before its slot: time to claim and gate it first
    assert [options["countdown"] for options in enqueued] == [60 - PACED_RETURN_EARLY] * 3
    assert on_time == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert len(fake_twilio.requests) == 1


def test_it_lets_a_stop_between_creation_and_dispatch_win(fake_twilio, opted_in_contact):
    contact = opted_in_contact()
    message = queued(contact)
    consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    assert message_dispatch(message_id=message.pk) == "suppressed"
    assert fake_twilio.messages_sent() == []
    message.refresh_from_db()
    assert (message.status, message.reason_code) == ("suppressed", "consent_opted_out")
    assert list(message.log.values_list("kind", "status")) == [
        ("decision", "queued"),
        ("decision", "suppressed"),
    ]


def test_it_records_a_carrier_opt_out_and_never_retries(fake_twilio, opted_in_contact):
    contact = opted_in_contact()
    message = queued(contact)
    fake_twilio.fail_next(
        status=400, code=21610, message="Attempt to send to unsubscribed recipient"
    )
    assert message_dispatch(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "21610")
    assert Suppression.objects.get(address=str(contact.phone)).reason == "carrier_opt_out"
    states = dict(ConsentState.objects.filter(contact=contact).values_list("purpose", "status"))
    assert states == {"marketing": "opted_out", "transactional": "opted_out"}
    assert ConsentRecord.objects.filter(contact=contact, source="carrier").count() == 2
    assert len(fake_twilio.requests) == 1
    # The failed message no longer holds the cap: the next one may be created (and suppressed
    # for the opt-out, not for the cap).
    follow_up = message_create(
        send_key="m2", origin="journey", category="marketing", contact=contact, body=BODY
    )
    assert follow_up.reason_code == "suppressed_carrier_opt_out"


def test_it_flags_an_invalid_number_as_permanent(fake_twilio, opted_in_contact):
    contact = opted_in_contact()
    fake_twilio.error_for_number(str(contact.phone), status=400, code=21614)
    message = queued(contact)
    assert message_dispatch(message_id=message.pk) == "failed"
    entry = Suppression.objects.get(address=str(contact.phone))
    assert (entry.reason, entry.contact_id) == ("invalid_number", contact.pk)


@pytest.mark.parametrize(("status", "code"), [(500, None), (429, 20429), (503, None)])
def test_it_retries_a_transient_error_with_backoff(
    fake_twilio, opted_in_contact, status, code, django_capture_on_commit_callbacks
):
    message = queued(opted_in_contact())
    fake_twilio.fail_next(status=status, code=code)
    with django_capture_on_commit_callbacks(execute=False) as requeue:
        assert message_dispatch(message_id=message.pk) == "retry"
    assert len(requeue) == 1
    requeue[0]()  # the requeue after commit (its own enqueue runs eagerly in tests)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(fake_twilio.messages_sent()) == 1
    assert [r.status for r in fake_twilio.requests] == [status, 201]


def test_it_reconciles_a_timeout_after_twilio_accepted_and_never_resends(
    fake_twilio, opted_in_contact
):
    message = queued(opted_in_contact())
    fake_twilio.delay_next(3.0)  # longer than the client's 2 s timeout; the fake keeps the message
    assert message_dispatch(message_id=message.pk) == "reconcile"
    message.refresh_from_db()
    assert (message.status, message.needs_reconciliation) == ("sending", True)
    assert message_reconcile(message_id=message.pk) == "found"
    message.refresh_from_db()
    [accepted] = fake_twilio.messages_sent()
    assert message.status == "sent"
    assert message.provider_sid == fake_twilio.message_sids()[0]
    assert accepted["Body"] == BODY
    assert [r.method for r in fake_twilio.requests].count("POST") == 1


def test_it_requeues_after_the_grace_period_when_twilio_never_got_it(
    fake_twilio, opted_in_contact, django_capture_on_commit_callbacks
):
    message = queued(opted_in_contact())
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=MIDDAY, needs_reconciliation=True
    )
    with time_machine.travel(MIDDAY + timedelta(minutes=5), tick=False):
        assert message_reconcile(message_id=message.pk) == "waiting"
    with time_machine.travel(MIDDAY + timedelta(minutes=11), tick=False):
        assert message_reconcile(message_id=message.pk) == "requeued"
    message.refresh_from_db()
    assert message.status in ("queued", "sent")
    assert len(fake_twilio.messages_sent()) <= 1


def test_it_retries_when_twilio_cannot_be_reached(
    settings, opted_in_contact, django_capture_on_commit_callbacks
):
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    message = queued(opted_in_contact())
    with django_capture_on_commit_callbacks(execute=False):
        assert message_dispatch(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert (message.needs_reconciliation, message.error_code) == (False, "connection")


def test_it_records_console_messages_without_credentials(opted_in_contact, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    message = queued(opted_in_contact())
    assert message_dispatch(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == ("delivered", f"console-{message.pk}")


def test_two_identical_texts_that_timed_out_are_matched_to_two_different_twilio_messages(
    fake_twilio, opted_in_contact
):
    contact = opted_in_contact()
    texts = [
        message_create(
            send_key=f"same-{i}",
            origin="rep_reply",
            category="transactional",
            contact=contact,
            body=BODY,
        )
        for i in (1, 2)
    ]
    for message in texts:
        fake_twilio.delay_next(3.0)  # the client gives up at 2 s; Twilio keeps each message
        assert message_dispatch(message_id=message.pk) == "reconcile"
    assert [message_reconcile(message_id=m.pk) for m in texts] == ["found", "found"]
    sids = [OutboundMessage.objects.get(pk=m.pk).provider_sid for m in texts]
    assert sorted(sids) == sorted(fake_twilio.message_sids())
    assert len(set(sids)) == 2
    assert [r.method for r in fake_twilio.requests].count("POST") == 2
