"""Writes of the inbox: replies landing in conversations, answers through the one policy
gate, taking, assigning, closing, notes and saved replies.

Every change to a conversation's assignment is a conditional UPDATE or runs under its row
lock, so two reps acting at once see one outcome and the other is told."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Team, User
from apps.contacts.models import Contact
from apps.inbox.errors import InboxError
from apps.inbox.models import (
    Conversation,
    ConversationNote,
    ConversationStatus,
    ConversationStatusChange,
    InboxPolicy,
    ResponseWait,
    SavedReply,
)
from apps.inbox.selectors import replies_unfiled
from apps.library.placeholders.rendering import template_render
from apps.library.placeholders.validation import placeholders_errors
from apps.sends.keywords import NONE as FREE_TEXT  # no keyword: a person to answer
from apps.sends.models import Decision, MessageOrigin, OutboundMessage
from apps.sends.services.messages import message_create

REPLY_MAX_CHARS = 640
NOTE_MAX_CHARS = 2000
PREVIEW_CHARS = 160


# --- Replies arriving -------------------------------------------------------------------


@transaction.atomic
def conversation_reply_record(
    *,
    from_address: str,
    to_address: str,
    contact_id: int | None,
    body: str,
    keyword_kind: str,
    received_at: datetime,
) -> Conversation:
    """Puts an inbound text in its conversation. A text that is no keyword makes the
    conversation unread and starts a wait for an answer (unless one is running); a keyword
    (STOP, HELP…) Cue answered itself is in the thread and asks nothing of anyone."""
    conversation = _conversation_for(from_address, to_address, contact_id, received_at)
    conversation.last_message_at = max(conversation.last_message_at, received_at)
    conversation.last_message_text = body[:PREVIEW_CHARS]
    conversation.last_inbound_at = received_at
    if contact_id and conversation.contact_id != contact_id:
        conversation.contact_id = contact_id
    if keyword_kind == FREE_TEXT:
        conversation.status = ConversationStatus.UNREAD
        _wait_start(conversation, received_at)
    conversation.save()
    return conversation


def _conversation_for(their: str, ours: str, contact_id: int | None, at: datetime) -> Conversation:
    conversation, created = Conversation.objects.select_for_update().get_or_create(
        their_address=their,
        our_address=ours or "",
        defaults={"contact_id": contact_id, "last_message_at": at},
    )
    if created:
        _assign_to_owner(conversation)
    return conversation


def _assign_to_owner(conversation: Conversation) -> None:
    """A known contact's texts go to their owner (and the owner's team); nobody's texts
    wait unassigned, where every rep sees them."""
    contact = Contact.objects.filter(pk=conversation.contact_id).select_related("owner").first()
    owner = contact.owner if contact else None
    if owner is not None and owner.is_active:
        conversation.assigned_user = owner
        conversation.assigned_team_id = owner.team_id


def _wait_start(conversation: Conversation, at: datetime) -> None:
    if conversation.waiting_since is not None:
        return
    due = at + timedelta(minutes=first_response_minutes(conversation.assigned_team_id))
    conversation.waiting_since, conversation.response_due_at = at, due
    ResponseWait.objects.create(
        conversation=conversation, team_id=conversation.assigned_team_id, started_at=at, due_at=due
    )


def first_response_minutes(team_id: int | None) -> int:
    """The team's SLA for a first answer; the deployment's default for no team."""
    policy = InboxPolicy.objects.filter(team_id=team_id).first() if team_id else None
    return policy.first_response_minutes if policy else settings.INBOX_FIRST_RESPONSE_MINUTES


def conversations_answered(*, contact_id: int, at: datetime, by: User | None = None) -> int:
    """A rep texted the contact (from the inbox or a follow-up task): their conversations'
    waits that began before `at` end at `at`."""
    conversations = Conversation.objects.filter(contact_id=contact_id, waiting_since__lte=at)
    ids = list(conversations.values_list("pk", flat=True))
    if not ids:
        return 0
    ResponseWait.objects.filter(conversation_id__in=ids, answered_at=None).update(
        answered_at=at, answered_by=by
    )
    return Conversation.objects.filter(pk__in=ids).update(waiting_since=None, response_due_at=None)


def replies_unfiled_file(*, since: datetime) -> int:
    """The sweep behind the inbox's reply hook: every text received since `since` from a
    number and to a number that have no conversation (the hook failed, its savepoint rolled
    back) is filed now, oldest first, so it makes its conversation as the hook would have.
    Running it again files nothing. Returns how many texts it filed."""
    unfiled = list(replies_unfiled(since=since))
    replies_file(unfiled)
    return len(unfiled)


def replies_file(replies) -> None:
    """Files each reply (a hand-off's ReplyReceived, or a stored inbound text: the same
    fields) in its conversation, in order."""
    for reply in replies:
        conversation_reply_record(
            from_address=reply.from_address,
            to_address=reply.to_address,
            contact_id=reply.contact_id,
            body=reply.body,
            keyword_kind=reply.keyword_kind,
            received_at=reply.received_at,
        )


# --- A rep at work ----------------------------------------------------------------------


@transaction.atomic
def conversation_reply(
    *, conversation: Conversation, actor: User, body: str, nonce: str
) -> OutboundMessage:
    """A text from the rep, through the one policy gate; the form's nonce makes the send
    key, so a double-submitted form sends once. Only a text the gate lets through (now or
    later) answers the wait."""
    body = body.strip()
    if not body or len(body) > REPLY_MAX_CHARS:
        raise InboxError(f"Write 1–{REPLY_MAX_CHARS} characters.", field="body")
    conversation = _locked(conversation)
    if conversation.contact is None:
        raise InboxError(
            "This number belongs to no contact, so Cue has no consent to text it. "
            "Add the contact (with their consent) first.",
            field="body",
        )
    message = message_create(
        send_key=f"inbox-reply:{conversation.pk}:{nonce[:64]}",
        origin=MessageOrigin.REP_REPLY,
        category="transactional",
        contact=conversation.contact,
        to_address=conversation.their_address,
        body=body,
    )
    if message.decision in (Decision.ALLOW, Decision.DEFER):
        now = timezone.now()
        conversations_answered(contact_id=conversation.contact_id, at=now, by=actor)
        Conversation.objects.filter(pk=conversation.pk).update(
            status=ConversationStatus.OPEN,
            last_message_at=now,
            last_message_text=body[:PREVIEW_CHARS],
        )
    return message


def _locked(conversation: Conversation) -> Conversation:
    rows = Conversation.objects.select_for_update(of=("self",)).select_related("contact")
    return rows.get(pk=conversation.pk)


def conversation_open(*, conversation: Conversation, actor: User) -> None:
    """Someone who may answer it opened it: no longer unread (no row for a glance)."""
    if actor.has_perm("inbox.work_conversation"):
        Conversation.objects.filter(pk=conversation.pk, status=ConversationStatus.UNREAD).update(
            status=ConversationStatus.OPEN
        )


def conversation_take(*, conversation: Conversation, actor: User) -> None:
    """The rep takes an unassigned (or their team's unassigned) conversation. Two reps at
    once: the first wins, the other is told."""
    taken = Conversation.objects.filter(pk=conversation.pk, assigned_user=None).update(
        assigned_user=actor, assigned_team=actor.team_id or conversation.assigned_team_id
    )
    if not taken:
        holder = Conversation.objects.filter(pk=conversation.pk).values_list(
            "assigned_user__first_name", "assigned_user__username"
        )
        name = next((first or username for first, username in holder), "someone")
        raise InboxError(f"{name} took this conversation first.")


@transaction.atomic
def conversation_assign(
    *, conversation: Conversation, actor: User, to_user: User | None, to_team: Team | None
) -> None:
    """A manager hands the conversation to one of their reps or to a team's queue."""
    if to_user is None and to_team is None:
        raise InboxError("Choose a rep or a team.", field="to")
    if to_user is not None and not to_user.is_active:
        raise InboxError(f"{to_user} is not active.", field="to")
    conversation = _locked(conversation)
    conversation.assigned_user = to_user
    conversation.assigned_team = to_team or (to_user.team if to_user else None)
    conversation.save(update_fields=["assigned_user", "assigned_team"])
    ResponseWait.objects.filter(conversation=conversation, answered_at=None).update(
        team=conversation.assigned_team
    )


@transaction.atomic
def conversation_close(*, conversation: Conversation, actor: User) -> None:
    """Done: nothing more to answer. A new text opens it again. Who closed it, and when,
    is kept (once: closing a closed conversation changes nothing)."""
    closing = Conversation.objects.filter(pk=conversation.pk).exclude(
        status=ConversationStatus.CLOSED
    )
    if closing.update(status=ConversationStatus.CLOSED):
        _status_change_record(conversation, ConversationStatus.CLOSED, actor)


@transaction.atomic
def conversation_reopen(*, conversation: Conversation, actor: User) -> None:
    reopening = Conversation.objects.filter(pk=conversation.pk, status=ConversationStatus.CLOSED)
    if reopening.update(status=ConversationStatus.OPEN):
        _status_change_record(conversation, ConversationStatus.OPEN, actor)


def _status_change_record(conversation: Conversation, status: str, actor: User) -> None:
    ConversationStatusChange.objects.create(conversation=conversation, status=status, actor=actor)


def note_add(*, conversation: Conversation, actor: User, body: str) -> ConversationNote:
    body = body.strip()
    if not body or len(body) > NOTE_MAX_CHARS:
        raise InboxError(f"Write 1–{NOTE_MAX_CHARS} characters.", field="note")
    return ConversationNote.objects.create(conversation=conversation, author=actor, body=body)


# --- Saved replies ------------------------------------------------------------------------


def saved_reply_errors(*, body: str) -> list[str]:
    """What is wrong with a saved reply's placeholders (links need a template)."""
    errors = placeholders_errors(body=body, subject="", links={}, defaults={})
    return [message for messages in errors.values() for message in messages]


def saved_reply_render(*, reply: SavedReply, contact: Contact | None) -> str:
    """The reply with the contact's values in; the inline defaults where there are none."""
    version = SimpleNamespace(body=reply.body, subject="", defaults={})
    return template_render(version=version, contact=contact or SimpleNamespace()).body
