"""The message-outcome hook fires once per status a message reaches, from every path that
moves it: dispatch, the status webhook, reconciliation, the gate, cancellations and the
sweep's expiry; a repeated or late callback fires nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from twilio.request_validator import RequestValidator

from apps.consent.models import Channel, ConsentSource
from apps.consent.services import consent_revoke_channel
from apps.sends.hooks import MessageFacts, MessageOutcome, message_outcome_hook
from apps.sends.models import MessageStatus, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create, messages_cancel
from apps.sends.services.sweep import message_reconcile, messages_sweep
from tests.factories import ContactFactory
from tests.hooks import hook_recorded
from tests.sends.conftest import AUTH_TOKEN
from tests.sends.templates import approved_sms_version
from tests.sends.test_inbound import text_in
from tests.sends.test_status_webhook import PATH as STATUS_PATH
from tests.sends.test_status_webhook import signed_post

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def outcomes():
    with hook_recorded(message_outcome_hook) as batches:
        yield batches


def queued(contact, key="m1", **fields) -> OutboundMessage:
    message = message_create(
        send_key=key, origin="journey", category="marketing", contact=contact, body=BODY, **fields
    )
    assert message.status == "queued"
    return message


def facts(message: OutboundMessage, **fields) -> MessageFacts:
    values = {
        "message_id": message.pk,
        "contact_id": message.contact_id,
        "channel": "sms",
        "origin": "journey",
        "category": "marketing",
        "journey_id": None,
        "enrollment_id": None,
        "step_id": None,
        "template_id": None,
        "template_name": "",
        "template_version_id": None,
        "template_version_number": None,
    }
    return MessageFacts(**{**values, **fields})


def outcome(message, status, at=MIDDAY, *, sid="", error="", text="", reason="", **facts_of):
    return MessageOutcome(
        message=facts(message, **facts_of),
        status=status,
        at=at,
        provider_sid=sid,
        error_code=error,
        error_message=text,
        reason_code=reason,
    )


def statuses(batches) -> list[list[str]]:
    return [[o.status for o in batch] for batch in batches]


# Dispatch


def test_it_reports_sent_with_the_template_version(fake_twilio, opted_in_contact, outcomes):
    version = approved_sms_version()
    message = message_create(
        send_key="demo",
        origin="journey",
        category="marketing",
        contact=opted_in_contact(),
        template_version=version,
    )
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    assert outcomes == [
        [
            outcome(
                message,
                "sent",
                sid=message.provider_sid,
                template_id=version.template_id,
                template_name="Demo confirmation",
                template_version_id=version.pk,
                template_version_number=1,
            )
        ]
    ]


def test_it_reports_nothing_for_the_pipelines_own_steps(opted_in_contact, outcomes):
    queued(opted_in_contact())  # pending -> queued: not an outcome
    assert outcomes == []


def test_it_reports_a_permanent_failure_with_its_error_code(
    fake_twilio, opted_in_contact, outcomes
):
    contact = opted_in_contact()
    fake_twilio.error_for_number(str(contact.phone), status=400, code=21614)
    message = queued(contact)
    assert message_dispatch(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert outcomes == [[outcome(message, "failed", error="21614", text=message.error_message)]]
    assert (
        message.error_message == "Unable to create record: 'To' number is not a valid mobile number"
    )


def test_it_reports_nothing_for_a_transient_error_that_will_be_retried(
    fake_twilio, opted_in_contact, outcomes
):
    fake_twilio.fail_next(status=500, code=20500)
    message = queued(opted_in_contact())
    assert message_dispatch(message_id=message.pk) == "retry"
    assert outcomes == []


def test_it_reports_a_carrier_opt_out_failure_once(fake_twilio, opted_in_contact, outcomes):
    fake_twilio.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed")
    message = queued(opted_in_contact())
    message_dispatch(message_id=message.pk)
    assert statuses(outcomes) == [["failed"]]
    assert outcomes[0][0].error_code == "21610"


def test_it_reports_sent_once_when_reconciliation_finds_the_message(
    fake_twilio, opted_in_contact, outcomes
):
    message = queued(opted_in_contact())
    fake_twilio.delay_next(3.0)  # the client times out; the fake keeps the message
    assert message_dispatch(message_id=message.pk) == "reconcile"
    assert outcomes == []
    assert message_reconcile(message_id=message.pk) == "found"
    assert message_reconcile(message_id=message.pk) == "settled"
    message.refresh_from_db()
    assert outcomes == [[outcome(message, "sent", sid=message.provider_sid)]]


# The status webhook


@pytest.fixture
def sent(fake_twilio, opted_in_contact):
    message = queued(opted_in_contact())
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_it_reports_delivered_once_when_twilio_repeats_the_callback(client, sent, outcomes):
    later = MIDDAY + timedelta(seconds=5)
    with time_machine.travel(later, tick=False):
        assert signed_post(client, sent, "delivered").status_code == 204
        assert signed_post(client, sent, "delivered").status_code == 204
    assert outcomes == [[outcome(sent, "delivered", later, sid=sent.provider_sid)]]


def test_it_reports_nothing_for_a_late_sent_after_delivered(client, sent, outcomes):
    signed_post(client, sent, "delivered")
    signed_post(client, sent, "sent")
    assert statuses(outcomes) == [["delivered"]]


def test_it_reports_undelivered_with_twilios_error_code(client, sent, outcomes):
    params = {"MessageSid": sent.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    url = f"{STATUS_PATH}?m={sent.pk}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://cue.example.com{url}", params
    )
    client.post(url, params, headers={"X-Twilio-Signature": signature})
    assert outcomes == [[outcome(sent, "undelivered", sid=sent.provider_sid, error="30003")]]


def test_it_reports_nothing_for_a_refused_callback(client, sent, outcomes):
    assert signed_post(client, sent, "delivered", token="wrong").status_code == 403
    assert outcomes == []


# Ended unsent


def test_it_reports_a_message_the_gate_suppresses_at_creation(outcomes):
    contact = ContactFactory(time_zone="America/Chicago", region="IL")  # no consent
    message = message_create(
        send_key="m", origin="journey", category="marketing", contact=contact, body=BODY
    )
    assert message.status == "suppressed"
    assert outcomes == [[outcome(message, "suppressed", reason=message.reason_code)]]


def test_it_reports_a_message_suppressed_at_dispatch_by_a_stop_since(
    fake_twilio, opted_in_contact, outcomes
):
    contact = opted_in_contact()
    message = queued(contact)
    consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    assert fake_twilio.messages_sent() == []
    assert outcomes == [[outcome(message, "suppressed", reason=message.reason_code)]]


def test_it_reports_a_cancelled_batch_in_one_call_with_one_query(opted_in_contact, outcomes):
    messages = [queued(opted_in_contact(), key=f"m{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        read = len(queries)
        messages_cancel(
            queryset=OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]),
            reason_code="goal_reached",
            reason="The contact booked a meeting.",
        )
    outcome_reads = [q for q in queries.captured_queries[read:] if "template" in q["sql"].lower()]
    assert len(outcome_reads) == 1
    assert outcomes == [
        [outcome(m, "canceled", reason="goal_reached") for m in messages],
    ]


def test_it_reports_a_held_message_the_sweep_expires(settings, opted_in_contact, outcomes):
    contact = opted_in_contact(time_zone="", region="", phone="+15551234567")  # unplaceable
    message = queued_or_held(contact)
    assert (message.status, outcomes) == ("held", [])
    expiry = MIDDAY + timedelta(hours=settings.CUE_HELD_MESSAGE_EXPIRY_HOURS, minutes=1)
    with time_machine.travel(expiry, tick=False):
        messages_sweep()
        messages_sweep()
    assert outcomes == [[outcome(message, "canceled", expiry, reason="held_expired")]]


def queued_or_held(contact) -> OutboundMessage:
    return message_create(
        send_key="h", origin="journey", category="marketing", contact=contact, body=BODY
    )


def test_it_reports_nothing_when_a_cancel_finds_nothing_to_cancel(sent, outcomes):
    messages_cancel(
        queryset=OutboundMessage.objects.filter(pk=sent.pk), reason_code="x", reason="x"
    )
    assert outcomes == []


# No listener


def test_it_reads_nothing_when_no_handler_listens(fake_twilio, client, sent):
    # Routing's webhook handler is registered, but no endpoint is subscribed.
    with CaptureQueriesContext(connection) as queries:
        signed_post(client, sent, "delivered")
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "library_messagetemplate" in s]
    assert len([s for s in sql if "routing_webhookendpoint" in s]) == 1


def test_it_reports_the_messages_a_stop_cancels_in_one_call(client, settings, opted_in_contact):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    contact = opted_in_contact()
    first = queued(contact)
    deferred = OutboundMessage.objects.create(
        send_key="later", origin="journey", category="marketing", contact=contact,
        to_address=str(contact.phone), body=BODY, status=MessageStatus.DEFERRED,
    )  # fmt: skip
    waiting = [first, deferred]
    with hook_recorded(message_outcome_hook) as outcomes:
        text_in(client, str(contact.phone), "STOP")
    assert outcomes == [[outcome(m, "canceled", reason="opted_out") for m in waiting]]
