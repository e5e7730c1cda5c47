"""What Cue says about a message, from real gate outcomes: why it was or wasn't sent in
words a marketer can read, its ordered decision and delivery timeline, a contact's
conversation, and the messages on the contact's timeline."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in, consent_revoke_channel
from apps.contacts.selectors import contact_timeline
from apps.sends.models import OutboundMessage
from apps.sends.selectors import (
    conversation,
    message_explain,
    message_explain_title,
    message_timeline,
    message_timeline_entries,
)
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.inbound import InboundText, inbound_receive
from apps.sends.services.messages import message_create, messages_cancel_to_address
from apps.sends.services.sweep import message_release
from apps.sends.webhooks.status import status_callback_apply
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# A Tuesday: 16:02 UTC is 11:02 in Chicago and 12:02 in New York.
TUESDAY_1602 = datetime(2026, 3, 10, 16, 2, tzinfo=UTC)
# Monday 21:00 in New York (EDT): past Florida's 20:00 end of the sending window.
MONDAY_2100_NEW_YORK = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
TUESDAY_0800_NEW_YORK = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."


MARKETING_CAPS = "caps: 0 of 1 (Marketing SMS: 1 a day), 0 of 3 (Marketing SMS: 3 a week)"


def gate_found(
    stage: str, contact, *, local: str, rule: str = "default", caps: str, row=None
) -> str:
    """The line naming each rule an allowed message passed, with the input it read (`row`:
    the ledger row the consent rested on then; the newest by default)."""
    marketing = contact.consent_records.filter(purpose=Purpose.MARKETING)
    row = row or marketing.order_by("occurred_at", "pk").last()
    consent = (
        f"marketing consent opted in (ledger row {row.pk}: API on {row.occurred_at:%d %b %Y})"
        if row
        else "no opt-out of transactional messages on record"
    )
    return (
        f"What the gate found {stage}: the number is on no suppression list; {consent}; the "
        "contact set no preferences; the sender registration and journeys checks pass; "
        f"{local} is inside the sending window ({rule}); {caps}."
    )


LONG_BODY = (
    "Acme: the recording of Tuesday's webinar is ready, with the slides and the Q&A. "
    "Reply STOP to opt out."
)


def marketing(contact, key="m1", body=BODY) -> OutboundMessage:
    return message_create(
        send_key=key, origin="journey", category="marketing", contact=contact, body=body
    )


def delivered(message: OutboundMessage) -> OutboundMessage:
    """Dispatches through the fake Twilio and applies its `delivered` callback."""
    assert message_dispatch(message_id=message.pk) == "sent"
    message.refresh_from_db()
    status_callback_apply(
        message=message,
        sid=message.provider_sid,
        status="delivered",
        params={"MessageStatus": "delivered"},
        idempotency_token="",
    )
    message.refresh_from_db()
    return message


@pytest.fixture
def florida_contact(opted_in_contact):
    return opted_in_contact(time_zone="America/New_York", region="FL")


# Why wasn't it sent?


def test_it_explains_marketing_held_back_for_an_unconfirmed_opt_in():
    contact = ContactFactory(time_zone="America/Chicago")
    consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.WEB_FORM,
    )

    with time_machine.travel(TUESDAY_1602, tick=False):
        message = marketing(contact)

    assert message.status == "suppressed"
    assert message_explain(message) == [
        "Held back at creation: Marketing needs an active, confirmed opt-in; "
        "SMS consent is awaiting confirmation."
    ]
    assert message_explain_title(message) == "Why wasn't this sent?"


def test_it_explains_marketing_held_back_for_no_consent_at_all():
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = marketing(ContactFactory(time_zone="America/Chicago"))

    assert message_explain(message) == [
        "Held back at creation: Marketing needs an active, confirmed opt-in; "
        "no SMS consent is on record."
    ]


def test_it_explains_a_stop_that_landed_between_creation_and_dispatch(
    fake_twilio, opted_in_contact
):
    with time_machine.travel(TUESDAY_1602, tick=False):
        contact = opted_in_contact()
        message = marketing(contact)
        consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
        assert message_dispatch(message_id=message.pk) == "suppressed"
    message.refresh_from_db()

    assert message_explain(message) == [
        "Allowed at creation: every rule allows it.",
        gate_found(
            "at creation",
            contact,
            local="11:02 in America/Chicago",
            caps=MARKETING_CAPS,
            row=contact.consent_records.order_by("pk").first(),  # the opt-in, before the STOP
        ),
        "Held back at dispatch: Marketing needs an active, confirmed opt-in; "
        "the contact opted out of SMS.",
    ]
    assert fake_twilio.messages_sent() == []


def test_it_explains_a_quiet_hours_deferral_in_the_recipients_own_time(florida_contact):
    with time_machine.travel(MONDAY_2100_NEW_YORK, tick=False):
        message = marketing(florida_contact)

    assert (message.status, message.next_attempt_at) == ("deferred", TUESDAY_0800_NEW_YORK)
    assert message_explain(message) == [
        "Deferred to 08:00 in America/New_York (Tue 12:00 UTC) by quiet hours (state:FL)."
    ]


def test_it_explains_a_message_held_because_no_time_zone_is_known():
    contact = ContactFactory(phone="+447700900123", time_zone="", region="")
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )

    with time_machine.travel(TUESDAY_1602, tick=False):
        message = marketing(contact)

    assert (message.status, message.reason_code) == ("held", "zone_unknown")
    assert message_explain(message) == [
        "Held at creation: no time zone is known for this contact, so quiet hours cannot be "
        "checked. Add the contact's time zone or state."
    ]


def test_it_explains_a_cancellation():
    contact = ContactFactory(time_zone="America/Chicago")
    consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.TRANSACTIONAL,
        source=ConsentSource.API,
    )
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = message_create(
            send_key="t1",
            origin="journey",
            category="transactional",
            contact=contact,
            body="Your demo is at 3 pm.",
        )
        messages_cancel_to_address(
            address=message.to_address,
            reason_code="opted_out",
            reason="The recipient replied 'STOP'.",
        )
    message.refresh_from_db()

    assert message_explain(message) == [
        "Allowed at creation: every rule allows it.",
        gate_found(
            "at creation",
            contact,
            local="11:02 in America/Chicago",
            caps="no frequency cap applies",
        ),
        "Canceled before sending: The recipient replied 'STOP'.",
    ]


def test_it_explains_a_permanent_provider_refusal(fake_twilio, opted_in_contact):
    fake_twilio.fail_next(
        status=400, code=21610, message="Attempt to send to unsubscribed recipient"
    )
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = marketing(opted_in_contact())
        assert message_dispatch(message_id=message.pk) == "failed"
    message.refresh_from_db()

    assert message_explain(message)[-1] == (
        "Not sent: the provider refused it (error 21610: Unable to create record: Attempt to "
        "send to unsubscribed recipient). The carrier says this number unsubscribed: it is now "
        "on the suppression list."
    )


# Why was it sent?


def test_it_explains_a_delivered_message(fake_twilio, opted_in_contact):
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = delivered(marketing(opted_in_contact()))

    assert message.status == "delivered"
    assert message_explain(message) == [
        "Allowed at creation and again at dispatch: every rule allows it.",
        gate_found(
            "at dispatch", message.contact, local="11:02 in America/Chicago", caps=MARKETING_CAPS
        ),
        "Sent 16:02, delivered 16:02.",
    ]
    assert message_explain_title(message) == "Why was this sent?"


def test_it_explains_a_deferral_then_the_release_and_the_delivery(fake_twilio, florida_contact):
    with time_machine.travel(MONDAY_2100_NEW_YORK, tick=False):
        message = marketing(florida_contact)
    with time_machine.travel(TUESDAY_0800_NEW_YORK, tick=False):
        assert message_release(message_id=message.pk) is True
        message = delivered(message)

    assert message_explain(message) == [
        "Deferred to 08:00 in America/New_York (Tue 12:00 UTC) by quiet hours (state:FL).",
        "Allowed when its deferral ended and again at dispatch: every rule allows it.",
        gate_found(
            "at dispatch",
            florida_contact,
            local="08:00 in America/New_York",
            rule="state:FL",
            caps=f"{MARKETING_CAPS}, 0 of 3 (Florida: 3 a day)",
        ),
        "Sent 12:00, delivered 12:00.",
    ]


# The timeline


def test_it_lists_every_decision_and_delivery_step_in_order(fake_twilio, florida_contact):
    with time_machine.travel(MONDAY_2100_NEW_YORK, tick=False):
        message = marketing(florida_contact)
    with time_machine.travel(TUESDAY_0800_NEW_YORK, tick=False):
        message_release(message_id=message.pk)
        message = delivered(message)

    steps = message_timeline(message)

    assert [(step.kind, step.title, step.status) for step in steps] == [
        ("decision", "Gate decision at creation: defer", "Deferred"),
        ("decision", "Gate decision when its deferral ended: allow", "Queued"),
        ("transition", "Status: Sending", "Sending"),
        ("provider", "Provider reports: sent", "Sent"),
        ("provider", "Provider reports: delivered", "Delivered"),
    ]
    deferral = steps[0]
    assert deferral.reason == ("21:00 in America/New_York is outside 08:00–20:00 (state:FL)")
    assert deferral.inputs == (
        ("Rule", "quiet_hours"),
        ("Deferred until", "2026-03-10 12:00:00 UTC"),
        ("Candidate time zones", "America/New_York"),
        ("Time zone taken from", "the contact's stated time zone"),
        ("Sending window", "state:FL"),
    )


def test_it_names_the_consent_status_among_the_decision_inputs():
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = marketing(ContactFactory(time_zone="America/Chicago"))

    [step] = message_timeline(message)

    assert step.inputs == (("Rule", "consent_none"), ("Consent", "No consent"))


# The conversation and the contact timeline


def test_it_shows_a_contacts_conversation_oldest_first(
    fake_twilio, opted_in_contact, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        first = delivered(marketing(contact, key="first"))
    with (
        time_machine.travel(datetime(2026, 3, 10, 16, 5, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),  # the reply's hand-on runs
    ):
        inbound_receive(
            text=InboundText(
                sid="SMin1",
                from_address=str(contact.phone),
                to_address="+15550001111",
                body="Can we do 3pm?",
            )
        )
    with time_machine.travel(datetime(2026, 3, 10, 16, 10, tzinfo=UTC), tick=False):
        message_create(
            send_key="second",
            origin="journey",
            category="transactional",
            contact=contact,
            body="Acme: 3pm works.",
        )
    other = opted_in_contact()
    with time_machine.travel(datetime(2026, 3, 10, 16, 7, tzinfo=UTC), tick=False):
        marketing(other, key="someone-else")

    items = conversation(contact=contact)

    assert [(item.direction, item.body) for item in items] == [
        ("out", first.body),
        ("in", "Can we do 3pm?"),
        ("out", "Acme: 3pm works."),
    ]
    assert [(item.reached, item.status) for item in items] == [
        (True, "Delivered"),
        (True, "handed to routing as sms_reply"),
        (False, "Queued: Every rule allows it."),
    ]


def test_it_puts_texts_and_replies_on_the_contact_timeline(
    fake_twilio, opted_in_contact, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        message = delivered(marketing(contact, body=LONG_BODY))
    with (
        time_machine.travel(datetime(2026, 3, 10, 16, 5, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),  # the reply's hand-on runs
    ):
        reply = inbound_receive(
            text=InboundText(
                sid="SMin2",
                from_address=str(contact.phone),
                to_address="+15550001111",
                body="Sounds good",
            )
        )

    entries = [entry for entry in contact_timeline(contact=contact) if entry.kind == "message"]

    assert [(entry.title, entry.detail, entry.url) for entry in entries] == [
        (
            "Replied: Sounds good",
            "handed to routing as sms_reply",
            f"/admin/sends/inboundmessage/{reply.pk}/change/",
        ),
        (
            "SMS sent: Acme: the recording of Tuesday's webinar is ready, with the…",
            "Delivered",
            f"/admin/sends/outboundmessage/{message.pk}/change/",
        ),
    ]
    assert message_timeline_entries(contact, 1)[0].at == message.sent_at


def test_it_titles_a_message_that_never_went_out_by_its_status():
    contact = ContactFactory(time_zone="America/Chicago")
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = message_create(
            send_key="s", origin="journey", category="marketing", contact=contact, body="Short one."
        )

    [entry] = message_timeline_entries(contact, 10)

    assert (entry.title, entry.detail) == (
        "SMS suppressed: Short one.",
        f"Suppressed: {message.reason}",
    )


def test_it_names_the_frequency_cap_that_held_a_message_back(opted_in_contact):
    with time_machine.travel(TUESDAY_1602, tick=False):
        contact = opted_in_contact()
        marketing(contact, key="first")
        second = marketing(contact, key="second")

    assert message_explain(second) == [
        "Held back at creation: Frequency cap reached: 1 of 1 marketing per 24 h already sent "
        "or reserved."
    ]
    [step] = message_timeline(second)
    assert step.inputs == (
        ("Rule", "frequency_cap"),
        ("Frequency cap", "1 marketing per 24 h"),
        ("Already sent or reserved", "1"),
    )
