"""Closing and reopening a conversation keeps who did it and when, and the thread shows it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.inbox.models import ConversationStatusChange
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def test_it_records_who_closed_and_reopened_and_shows_it_in_the_thread(client, text_in, sam):
    # Given Priya's text in Sam's conversation
    text_in(ContactFactory(owner=sam, first_name="Priya"), "Any news?")
    conversation = sam.conversations.get()
    client.force_login(sam)

    # When Sam closes it, closes it again by mistake, and reopens it an hour later
    with time_machine.travel(T, tick=False):
        client.post(reverse("inbox:close", args=[conversation.pk]))
        client.post(reverse("inbox:close", args=[conversation.pk]))
    with time_machine.travel(T + timedelta(hours=1), tick=False):
        client.post(reverse("inbox:reopen", args=[conversation.pk]))

    # Then two changes are kept, each with Sam and its time, and the thread names them
    changes = ConversationStatusChange.objects.filter(conversation=conversation)
    assert list(changes.values_list("status", "actor", "at")) == [
        ("closed", sam.pk, T),
        ("open", sam.pk, T + timedelta(hours=1)),
    ]
    conversation.refresh_from_db()
    assert conversation.status == "open"
    html = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert html.count(f"Closed by {sam.display_name}") == 1
    assert html.count(f"Reopened by {sam.display_name}") == 1


def test_it_records_nothing_when_an_open_conversation_is_reopened(client, text_in, sam):
    text_in(ContactFactory(owner=sam), "Hello?")
    conversation = sam.conversations.get()
    client.force_login(sam)

    client.post(reverse("inbox:reopen", args=[conversation.pk]))

    assert ConversationStatusChange.objects.count() == 0
