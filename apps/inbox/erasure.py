"""The inbox's part of a data-subject request (registered in ready()).

A conversation stays (the response-time figures count its waits) without the person: its
number becomes the keyed hash an erasure keeps numbers as, its last words and the notes
about it go, and it is closed and let go of its contact."""

from django.db.models import Q

from apps.contacts.erasure.registry import (
    ErasureContext,
    ErasurePart,
    erasure_part_register,
    traces_gather,
)
from apps.contacts.erasure.rows import rows_export
from apps.contacts.erasure.traces import address_erased_key
from apps.contacts.models import Contact
from apps.inbox.models import Conversation, ConversationNote, ConversationStatus


def _conversations(contact: Contact, traces=None):
    """Theirs, and any from one of their numbers before the number was a contact's."""
    traces = traces or traces_gather(contact)
    return Conversation.objects.filter(
        Q(contact=contact) | Q(their_address__in=traces.address_forms)
    )


def _export(contact: Contact) -> list[dict]:
    conversations = _conversations(contact)
    notes = ConversationNote.objects.filter(conversation__in=conversations)
    return rows_export(conversations) + [{"note": row} for row in rows_export(notes)]


def _count(contact: Contact) -> int:
    conversations = _conversations(contact)
    return (
        conversations.count()
        + ConversationNote.objects.filter(conversation__in=conversations).count()
    )


def _erase(contact: Contact, context: ErasureContext) -> int:
    changed = 0
    for row in _conversations(contact, context.traces).values("pk", "their_address"):
        ConversationNote.objects.filter(conversation_id=row["pk"]).delete()
        changed += Conversation.objects.filter(pk=row["pk"]).update(
            their_address=address_erased_key(row["their_address"]),
            contact=None,
            last_message_text="",
            status=ConversationStatus.CLOSED,
            waiting_since=None,
            response_due_at=None,
        )
    return changed


def inbox_erasure_parts_register() -> None:
    erasure_part_register(
        "inbox.conversations",
        ErasurePart("Inbox conversations and their notes", _export, _count, _erase),
    )
