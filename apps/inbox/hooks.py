"""What the inbox hears from sends: every reply (into its conversation), and every text a
rep sent to a contact from anywhere (a follow-up task's reply box too), which answers the
contact's waiting conversations."""

from apps.inbox.models import Conversation
from apps.inbox.services import conversations_answered, replies_file
from apps.sends.hooks import (
    MessageOutcome,
    message_outcome_handler_register,
    reply_handler_register,
)
from apps.sends.models import MessageOrigin, MessageStatus, OutboundMessage

_ANSWERED = {MessageStatus.SENT, MessageStatus.DELIVERED}


def inbox_listen() -> None:
    reply_handler_register("inbox", replies_file)
    message_outcome_handler_register("inbox", rep_texts_answer, listening=_anyone_waiting)


def _anyone_waiting() -> bool:
    """Only a conversation waiting for an answer cares what a rep's text did: otherwise a
    message's outcome is not even read for the inbox."""
    return Conversation.objects.filter(waiting_since__isnull=False).exists()


def rep_texts_answer(outcomes: list[MessageOutcome]) -> None:
    """A rep's text answers from the moment it was written (a text held overnight by quiet
    hours still answered when the rep wrote it), not when it left."""
    ids = [
        o.message.message_id
        for o in outcomes
        if o.message.origin == MessageOrigin.REP_REPLY
        and o.status in _ANSWERED
        and o.message.contact_id
    ]
    if not ids:
        return
    written = OutboundMessage.objects.filter(pk__in=ids).values_list("contact_id", "created_at")
    for contact_id, created_at in written:
        conversations_answered(contact_id=contact_id, at=created_at)
