"""The link-click hook fires once per person's click (never for a link preview); the reply
hook once per inbound text: a keyword in the webhook's request, any other text when the
worker hands it on, and a repeated webhook or a second hand-on fires nothing."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.sends.hooks import (
    LinkClicked,
    MessageFacts,
    ReplyReceived,
    link_click_hook,
    message_outcome_hook,
    reply_hook,
)
from apps.sends.models import InboundMessage, LinkClick, OutboundMessage, TrackedLink
from apps.sends.services.inbound import inbound_reply_handle
from apps.sends.services.messages import message_create
from apps.sends.services.sweep import messages_sweep
from tests.hooks import hook_recorded
from tests.sends.conftest import AUTH_TOKEN
from tests.sends.templates import LINKS, approved_sms_version
from tests.sends.test_inbound import OUR_NUMBER, text_in
from tests.sends.test_links import IPHONE_SAFARI, click

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def midday(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # replies go to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def clicks():
    with hook_recorded(link_click_hook) as batches:
        yield batches


@pytest.fixture
def replies():
    with hook_recorded(reply_hook) as batches:
        yield batches


@pytest.fixture
def link(opted_in_contact) -> TrackedLink:
    version = approved_sms_version()
    message = message_create(
        send_key="demo-confirmation",
        origin="journey",
        category="marketing",
        contact=opted_in_contact(),
        template_version=version,
        journey_id=42,
        enrollment_id=9,
        step_id=7,
    )
    return TrackedLink.objects.get(message=message)


def facts_of(message: OutboundMessage) -> MessageFacts:
    version = message.template_version
    return MessageFacts(
        message_id=message.pk,
        contact_id=message.contact_id,
        channel="sms",
        origin=message.origin,
        category=message.category,
        journey_id=message.journey_id,
        enrollment_id=message.enrollment_id,
        step_id=message.step_id,
        template_id=version.template_id if version else None,
        template_name=version.template.name if version else "",
        template_version_id=version.pk if version else None,
        template_version_number=version.number if version else None,
    )


# Clicks


def test_it_hands_a_persons_click_with_its_journey_step_and_template(client, link, clicks):
    assert click(client, link, user_agent=IPHONE_SAFARI).status_code == 302
    stored = LinkClick.objects.get()
    assert clicks == [
        [
            LinkClicked(
                click_id=stored.pk,
                message=facts_of(link.message),
                link_key="details",
                is_key_link=True,
                destination=LINKS["details"]["url"],
                at=MIDDAY,
            )
        ]
    ]
    assert (link.message.journey_id, link.message.step_id) == (42, 7)


def test_it_hands_on_each_click_once(client, link, clicks):
    click(client, link)
    click(client, link)
    assert [[c.click_id for c in batch] for batch in clicks] == [
        [pk] for pk in LinkClick.objects.order_by("pk").values_list("pk", flat=True)
    ]


def test_it_hands_on_no_link_preview(client, link, clicks):
    click(client, link, user_agent="WhatsApp/2.23.20.0")
    assert (LinkClick.objects.get().is_bot, clicks) == (True, [])


def test_it_hands_on_nothing_for_an_unknown_token(client, clicks):
    assert client.get("/l/nothing-here").status_code == 404
    assert clicks == []


# Replies


def last_sent(contact) -> OutboundMessage:
    message = message_create(
        send_key="reminder",
        origin="journey",
        category="marketing",
        contact=contact,
        template_version=approved_sms_version(),
    )
    OutboundMessage.objects.filter(pk=message.pk).update(status="sent", sent_at=MIDDAY)
    return OutboundMessage.objects.get(pk=message.pk)


def test_it_hands_on_a_plain_reply_when_the_worker_handles_it_once(
    client, opted_in_contact, replies, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    answered = last_sent(contact)
    with django_capture_on_commit_callbacks(execute=False):
        text_in(client, str(contact.phone), "Yes please call me tomorrow")
    assert replies == []  # stored; the worker acts on it
    inbound = InboundMessage.objects.get()
    inbound_reply_handle(inbound_id=inbound.pk)
    inbound_reply_handle(inbound_id=inbound.pk)  # a second run does nothing
    inbound.refresh_from_db()
    assert replies == [
        [
            ReplyReceived(
                inbound_id=inbound.pk,
                contact_id=contact.pk,
                from_address=str(contact.phone),
                to_address=OUR_NUMBER,
                body="Yes please call me tomorrow",
                received_at=MIDDAY,
                keyword_kind="none",
                keyword="",
                classification_rule=inbound.classification_rule,
                outcome="handed to routing as sms_reply",
                in_reply_to=facts_of(answered),
            )
        ]
    ]


def test_it_hands_on_a_reply_whose_hand_off_was_lost_when_the_sweep_finds_it(
    client, opted_in_contact, replies, django_capture_on_commit_callbacks
):
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=False):  # the worker never ran
        text_in(client, str(contact.phone), "Sounds good")
    with time_machine.travel(MIDDAY.replace(minute=5), tick=False):
        messages_sweep()
        messages_sweep()
    assert [[r.body for r in batch] for batch in replies] == [["Sounds good"]]


def test_it_hands_on_a_stop_in_the_request_with_its_classification(
    client, opted_in_contact, replies
):
    contact = opted_in_contact()
    with hook_recorded(message_outcome_hook) as outcomes:
        text_in(client, str(contact.phone), "STOP")
        text_in(client, str(contact.phone), "STOP")  # Twilio retries the same webhook
    inbound = InboundMessage.objects.get()
    [[reply]] = replies
    assert (reply.inbound_id, reply.keyword_kind, reply.keyword, reply.in_reply_to) == (
        inbound.pk,
        "opt_out",
        "STOP",
        None,
    )
    assert reply.outcome == inbound.outcome == "opted out; 0 queued message(s) cancelled"
    assert outcomes == []  # nothing was waiting; the confirmation is only queued


def test_it_hands_on_a_reply_from_an_unknown_number(client, replies):
    text_in(client, "+14155550199", "HELP")
    [[reply]] = replies
    assert (reply.contact_id, reply.keyword_kind, reply.outcome) == (None, "help", "help sent")
