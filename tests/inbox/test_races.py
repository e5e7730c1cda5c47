"""Two reps take the same conversation at once: one has it, the other is told. Row locks
and conditional updates are PostgreSQL's to prove."""

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.utils import timezone

from apps.inbox.errors import InboxError
from apps.inbox.models import Conversation
from apps.inbox.services import conversation_take
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]


def test_two_reps_taking_one_conversation_at_once_one_wins(sam, riley):
    conversation = Conversation.objects.create(
        their_address="+13125559999", our_address="+13125550000", last_message_at=timezone.now()
    )
    reps = [sam, riley]

    def take(i):
        try:
            conversation_take(conversation=conversation, actor=reps[i])
        except InboxError as error:
            return error.message
        return "taken"

    outcomes = in_threads(2, take)

    conversation.refresh_from_db()
    winner = reps[outcomes.index("taken")]
    assert conversation.assigned_user == winner
    assert sorted(outcomes) == sorted(
        ["taken", f"{winner.first_name} took this conversation first."]
    )
