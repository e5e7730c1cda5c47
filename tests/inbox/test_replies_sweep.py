"""The sweep behind the inbox's reply hook: a text whose hook failed still lands in a
conversation, once, and the beat runs the sweep."""

import pytest

from apps.core.schedules import declared_periodic_tasks
from apps.inbox import services
from apps.inbox.models import Conversation, ResponseWait
from apps.inbox.tasks import replies_sweep_task
from apps.sends.models import InboundMessage
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _hook_broken(*args, **kwargs):
    raise RuntimeError("the inbox was down")


def test_it_files_a_reply_whose_inbox_hook_failed_once(text_in, sam, monkeypatch):
    # Given Priya's text arrived while the inbox's hook failed
    priya = ContactFactory(owner=sam, first_name="Priya")
    with monkeypatch.context() as patch:
        patch.setattr(services, "conversation_reply_record", _hook_broken)
        assert text_in(priya, "Can someone call me?").status_code == 200
    assert (InboundMessage.objects.count(), Conversation.objects.count()) == (1, 0)

    # When the sweep runs, twice
    filed = replies_sweep_task()
    again = replies_sweep_task()

    # Then her text is in one unread conversation of her owner's, waiting once
    conversation = Conversation.objects.get()
    assert (filed, again) == (1, 0)
    assert (
        conversation.contact,
        conversation.their_address,
        conversation.status,
        conversation.assigned_user,
        conversation.last_message_text,
    ) == (priya, str(priya.phone), "unread", sam, "Can someone call me?")
    assert ResponseWait.objects.filter(conversation=conversation, answered_at=None).count() == 1


def test_it_leaves_a_filed_reply_alone(text_in, sam):
    text_in(ContactFactory(owner=sam), "Hello?")
    before = list(Conversation.objects.values())

    assert replies_sweep_task() == 0
    assert list(Conversation.objects.values()) == before


def test_it_is_on_the_beat():
    declared = declared_periodic_tasks()["cue: file replies the inbox missed"]
    assert declared == {"task": "inbox.replies_sweep", "every": 300}
