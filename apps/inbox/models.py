"""Conversations: one per person's number and the Cue number they wrote to.

A conversation is waiting from the first inbound text nobody has answered until a rep
answers it; each wait is kept (`ResponseWait`) so that first-response times and SLA breaches
can be reported after the fact, per team."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from apps.accounts.models import Team
from apps.contacts.models import Contact


class ConversationStatus(models.TextChoices):
    UNREAD = "unread", "Unread"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Conversation(models.Model):
    """The texts between one number and one of Cue's numbers, assigned to a rep or a team."""

    their_address = models.CharField(max_length=32)
    our_address = models.CharField(max_length=32, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    status = models.CharField(
        max_length=8, choices=ConversationStatus.choices, default=ConversationStatus.UNREAD
    )
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    assigned_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    last_message_at = models.DateTimeField(db_index=True)
    last_message_text = models.CharField(max_length=160, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True, db_index=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["their_address", "our_address"], name="inbox_one_conversation_per_pair"
            )
        ]
        indexes = [models.Index(fields=["status", "last_message_at"])]
        permissions = [
            ("work_conversation", "Can reply to, take and close conversations"),
            ("assign_conversation", "Can assign conversations to anyone in their teams"),
            ("view_all_conversations", "Can read every conversation"),
        ]

    def __str__(self) -> str:
        return f"Conversation with {self.contact or self.their_address}"


class ConversationNote(models.Model):
    """A note a person wrote on a conversation (never sent)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.conversation}"


class ConversationStatusChange(models.Model):
    """Who closed or reopened a conversation, and when: shown in its thread."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=8, choices=ConversationStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} by {self.actor} on {self.conversation}"

    @property
    def words(self) -> str:
        done = "Closed" if self.status == ConversationStatus.CLOSED else "Reopened"
        return f"{done} by {self.actor.display_name if self.actor else 'a former user'}"


class ResponseWait(models.Model):
    """One wait for a first response: from the first unanswered text to the answer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="waits")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=models.Q(answered_at=None),
                name="inbox_one_open_wait_per_conversation",
            )
        ]
        indexes = [models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"Wait from {self.started_at:%Y-%m-%d %H:%M} on {self.conversation}"

    @property
    def breached(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.due_at


class InboxPolicy(models.Model):
    """How fast a team answers a text: its first-response SLA."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="inbox_policy")
    first_response_minutes = models.PositiveIntegerField(default=60)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "inbox policies"

    def __str__(self) -> str:
        return f"{self.team}: answer within {self.first_response_minutes} min"


class SavedReply(models.Model):
    """A reply a rep can insert with one click; placeholders as in templates."""

    title = models.CharField(max_length=80, unique=True)
    body = models.TextField(max_length=640)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return self.title
