"""Every text a person sends lands in a conversation someone can see and answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inbox.models import Conversation, InboxPolicy, ResponseWait
from apps.inbox.selectors import conversation_thread, inbox_figures
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_free_text_reply_waits_in_its_owners_conversation(text_in, sam, team):
    # Given Priya, owned by Sam, and a team answering within 30 minutes
    InboxPolicy.objects.create(team=team, first_response_minutes=30)
    priya = ContactFactory(owner=sam, first_name="Priya")

    # When she writes something that is no keyword
    assert text_in(priya, "What time does the webinar start?").status_code == 200

    # Then one unread conversation is Sam's, waiting 30 minutes for an answer
    conversation = Conversation.objects.get()
    now = timezone.now()
    assert (
        conversation.contact,
        conversation.their_address,
        conversation.our_address,
        conversation.status,
        conversation.assigned_user,
        conversation.assigned_team,
        conversation.waiting_since,
        conversation.response_due_at,
        conversation.last_message_text,
    ) == (
        priya,
        str(priya.phone),
        "+13125550000",
        "unread",
        sam,
        team,
        now,
        now + timedelta(minutes=30),
        "What time does the webinar start?",
    )
    assert list(ResponseWait.objects.values_list("started_at", "due_at", "answered_at")) == [
        (now, now + timedelta(minutes=30), None)
    ]


def test_a_second_text_joins_the_same_conversation_and_the_same_wait(text_in, sam, now):
    priya = ContactFactory(owner=sam)
    text_in(priya, "Hello?")
    now.shift(120)
    text_in(priya, "Anyone there?")

    conversation = Conversation.objects.get()
    assert conversation.last_message_text == "Anyone there?"
    assert ResponseWait.objects.count() == 1
    assert [e.text for e in conversation_thread(conversation)] == ["Hello?", "Anyone there?"]


def test_a_keyword_is_in_the_thread_but_asks_nobody_for_an_answer(text_in, sam):
    priya = ContactFactory(owner=sam)

    text_in(priya, "STOP")

    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.waiting_since) == ("unread", None)
    assert ResponseWait.objects.count() == 0
    (inbound, confirmation) = conversation_thread(conversation)
    assert (inbound.kind, inbound.text) == ("inbound", "STOP")
    assert inbound.detail.startswith("STOP")
    assert confirmation.kind == "outbound"


def test_a_text_from_an_unknown_number_waits_unassigned(text_in):
    stranger = ContactFactory.build(phone="+13125559999")

    text_in(stranger, "who is this?")

    conversation = Conversation.objects.get()
    assert (conversation.contact, conversation.assigned_user, conversation.assigned_team) == (
        None,
        None,
        None,
    )
    assert conversation.their_address == "+13125559999"
    assert conversation.waiting_since is not None


def test_the_figures_count_first_responses_and_breaches(text_in, sam, team, now, client):
    InboxPolicy.objects.create(team=team, first_response_minutes=10)
    late, quick, waiting = (ContactFactory(owner=sam) for _ in range(3))
    start = timezone.now()
    for contact in (late, quick, waiting):
        text_in(contact, "A question")
    from apps.inbox.services import conversations_answered

    conversations_answered(contact_id=quick.pk, at=start + timedelta(minutes=4))
    conversations_answered(contact_id=late.pk, at=start + timedelta(minutes=16))

    figures = inbox_figures(since=start - timedelta(days=1), now=start + timedelta(minutes=30))

    assert (
        figures.answered,
        figures.median_first_response_minutes,
        figures.breached_answered,
        figures.breached_waiting,
    ) == (2, 10.0, 1, 1)
