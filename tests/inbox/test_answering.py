"""A rep answers a conversation through the one policy gate; who may see and do what."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.inbox.models import Conversation, ResponseWait, SavedReply
from apps.inbox.services import saved_reply_errors, saved_reply_render
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(text_in, sam, opted_in_contact):
    """Priya (Chicago, opted in), Sam's, asked a question at 10:00 her time."""

    def make(**fields):
        priya = opted_in_contact(owner=sam, first_name="Priya", last_name="Natarajan", **fields)
        text_in(priya, "Can I bring a colleague?")
        return Conversation.objects.get(contact=priya)

    return make


def reply(client, conversation, body, nonce="n1"):
    url = reverse("inbox:reply", args=[conversation.pk])
    return client.post(url, {"body": body, "nonce": nonce}, follow=True)


def test_a_reply_goes_through_the_gate_and_ends_the_wait(client, sam, waiting, now):
    conversation = waiting()
    client.force_login(sam)
    now.shift(300)

    response = reply(client, conversation, "Of course, bring them along!")

    assert response.status_code == 200
    message = OutboundMessage.objects.get(origin="rep_reply")
    assert (message.body, message.to_address, message.decision) == (
        "Of course, bring them along!",
        conversation.their_address,
        "allow",
    )
    wait = ResponseWait.objects.get()
    assert (wait.answered_by, (wait.answered_at - wait.started_at).seconds) == (sam, 300)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.waiting_since) == ("open", None)
    assert [str(m) for m in response.context["messages"]] == ["Sent."]


def test_the_same_form_sent_twice_sends_once(client, sam, waiting):
    conversation = waiting()
    client.force_login(sam)

    reply(client, conversation, "Yes!", nonce="same")
    reply(client, conversation, "Yes!", nonce="same")

    assert OutboundMessage.objects.filter(origin="rep_reply").count() == 1


def test_a_reply_in_quiet_hours_says_why_and_when_in_words(client, sam, waiting, now):
    conversation = waiting()
    client.force_login(sam)
    # 21:40 on Tuesday in Chicago (CDT since 8 March, UTC-5)
    now.move_to(datetime(2026, 3, 11, 2, 40, tzinfo=UTC))

    response = reply(client, conversation, "Sure, see you tomorrow")

    message = OutboundMessage.objects.get(origin="rep_reply")
    assert message.decision == "defer"
    (shown,) = [str(m) for m in response.context["messages"]]
    assert shown.startswith("Not sent now. ")
    assert "21:40 in America/Chicago is outside" in shown
    assert shown.endswith("it will go at Wed 08:00 (America/Chicago)")
    # A deferred text still answered: the rep wrote it
    assert ResponseWait.objects.get().answered_at is not None


def test_an_unknown_number_cannot_be_texted_and_nothing_is_sent(client, sam, text_in):
    text_in(ContactFactory.build(phone="+13125559999"), "who is this?")
    conversation = Conversation.objects.get()
    client.force_login(sam)

    response = reply(client, conversation, "Hi!")

    assert OutboundMessage.objects.filter(origin="rep_reply").count() == 0
    (shown,) = [str(m) for m in response.context["messages"]]
    assert shown.startswith("This number belongs to no contact")


def test_a_rep_sees_their_own_their_teams_and_the_unassigned_but_not_another_reps(
    client, sam, riley, make_rep, text_in
):
    outsider = make_rep("olga", team=None)
    mine = ContactFactory(owner=sam)
    rileys = ContactFactory(owner=riley)
    text_in(mine, "hi sam")
    text_in(rileys, "hi riley")
    text_in(ContactFactory.build(phone="+13125559999"), "hello?")
    rileys_conversation = Conversation.objects.get(contact=rileys)

    client.force_login(sam)
    listed = client.get(reverse("inbox:list") + "?view=all").context["conversations"]
    assert sorted(c.last_message_text for c in listed) == ["hello?", "hi sam"]
    assert (
        client.get(reverse("inbox:conversation", args=[rileys_conversation.pk])).status_code == 404
    )
    assert reply(client, rileys_conversation, "x").status_code == 404

    client.force_login(outsider)
    listed = client.get(reverse("inbox:list") + "?view=all").context["conversations"]
    assert [c.last_message_text for c in listed] == ["hello?"]


def test_compliance_reads_every_conversation_but_cannot_answer(client, compliance, waiting):
    conversation = waiting()
    client.force_login(compliance)

    assert client.get(reverse("inbox:conversation", args=[conversation.pk])).status_code == 200
    assert reply(client, conversation, "hello").status_code == 403
    assert OutboundMessage.objects.filter(origin="rep_reply").count() == 0
    conversation.refresh_from_db()
    assert conversation.status == "unread"  # reading it marks nothing for whoever answers


def test_taking_an_unassigned_conversation_twice_tells_the_second_rep(client, sam, riley, text_in):
    text_in(ContactFactory.build(phone="+13125559999"), "hello?")
    conversation = Conversation.objects.get()
    client.force_login(sam)
    client.post(reverse("inbox:take", args=[conversation.pk]))
    client.force_login(riley)

    response = client.post(reverse("inbox:take", args=[conversation.pk]), follow=True)

    # Riley no longer sees it at all: it is Sam's now
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.assigned_user == sam


def test_a_manager_assigns_only_by_an_explicit_choice(client, manager, riley, waiting):
    conversation = waiting()
    client.force_login(manager)
    page = client.get(reverse("inbox:conversation", args=[conversation.pk]))
    assert page.context["assign_form"]["to"].value() is None

    nothing = client.post(reverse("inbox:assign", args=[conversation.pk]), {"to": ""}, follow=True)
    assert [str(m) for m in nothing.context["messages"]] == [
        "Choose a rep or a team from the list."
    ]
    client.post(reverse("inbox:assign", args=[conversation.pk]), {"to": f"user:{riley.pk}"})

    conversation.refresh_from_db()
    assert conversation.assigned_user == riley


def test_the_counts_answer_as_json(client, sam, waiting):
    waiting()
    client.force_login(sam)

    counts = client.get(reverse("inbox:counts")).json()

    assert counts == {
        "mine": 1,
        "team": 1,
        "unassigned": 0,
        "all": 1,
        "unread": 1,
        "waiting": 1,
        "breached": 0,
    }


def test_a_saved_reply_fills_the_contacts_values_and_refuses_unknown_placeholders():
    reply_ = SavedReply.objects.create(
        title="Thanks", body='Thanks {{ contact.first_name | "there" }}!'
    )

    assert saved_reply_render(reply=reply_, contact=ContactFactory(first_name="Priya")) == (
        "Thanks Priya!"
    )
    assert saved_reply_render(reply=reply_, contact=ContactFactory(first_name="")) == (
        "Thanks there!"
    )
    assert saved_reply_errors(body="Hi {{ contact.shoe_size }}") != []
    assert saved_reply_errors(body="See {link:offer}") != []
