from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from apps.consent.models import Channel
from apps.contacts.models import Contact
from apps.core.partitions import Partitioned
from apps.library.models import TemplateVersion
from apps.sends.keywords import match as keyword_rules
from apps.sends.senders import Sender, SenderPool  # noqa: F401  (models of this app)


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DEFERRED = "deferred", "Deferred"
    HELD = "held", "Held (time zone unknown)"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    CANCELED = "canceled", "Canceled"

    @classmethod
    def rank(cls, status: str) -> int:
        """Status only moves to a higher rank; the final ones share the top rank."""
        return _RANK[status]

    @classmethod
    def reserving(cls) -> list[str]:
        """Statuses that hold a frequency-cap reservation: sent, or about to be."""
        return [cls.QUEUED, cls.SENDING, cls.SENT, cls.DELIVERED, cls.UNDELIVERED]

    @classmethod
    def cancellable(cls) -> list[str]:
        return [cls.PENDING, cls.DEFERRED, cls.HELD, cls.QUEUED]


_RANK = {
    "pending": 0,
    "deferred": 1,
    "held": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "suppressed": 6,
    "canceled": 6,
}


class MessageCategory(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"
    NOTIFICATION = "notification", "Internal notification"


class MessageOrigin(models.TextChoices):
    JOURNEY = "journey", "Journey step"
    TEST_SEND = "test_send", "Test send"
    NOTIFICATION = "notification", "Notification to a rep"
    KEYWORD_REPLY = "keyword_reply", "Reply to a keyword (STOP, HELP…)"
    DOUBLE_OPT_IN = "double_opt_in", "Double opt-in request"
    REP_REPLY = "rep_reply", "A rep's reply"


class Decision(models.TextChoices):
    ALLOW = "allow", "Allow"
    DEFER = "defer", "Defer"
    HOLD = "hold", "Hold"
    SUPPRESS = "suppress", "Suppress"


class OutboundMessage(models.Model):
    """One message Cue intends to send, with the gate's decision and its delivery history.

    `send_key` makes a second message for the same intent impossible; `provider_sid`
    ties it to exactly one provider message.
    """

    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_address = models.CharField(max_length=254)
    template_version = models.ForeignKey(
        TemplateVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    # An email's HTML part as it is sent (tracked links, unsubscribe link, CSS inlined),
    # rendered with the text when the message is made: a contact edited before dispatch
    # changes neither part. "" for a text and a text-only email.
    html = models.TextField(blank=True)
    encoding = models.CharField(max_length=8, blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    category = models.CharField(max_length=16, choices=MessageCategory.choices)
    origin = models.CharField(max_length=16, choices=MessageOrigin.choices)
    journey_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    enrollment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    step_id = models.BigIntegerField(null=True, blank=True)
    send_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    reason_code = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    needs_reconciliation = models.BooleanField(default=False)
    sender = models.CharField(max_length=64, blank=True)
    # Chosen at creation (the step's sender or pool, else the one the contact last heard
    # from); empty when no sender is set up and the environment's is used.
    from_sender = models.ForeignKey(
        Sender, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=16, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    price_unit = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Until then a dispatch task sent for this message may still run (it expires then): the
    # sweep enqueues it again only after, so a long queue collects no duplicate tasks.
    dispatch_task_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "category", "queued_at"], name="message_cap_window"),
            models.Index(fields=["to_address", "status"], name="message_to_status"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["deferred", "queued"]),
                name="message_due",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="message_in_flight"
            ),
            # Daily rollups, audits and the admin's reason filter select by these.
            models.Index(fields=["sent_at"], name="message_sent_at"),
            models.Index(fields=["delivered_at"], name="message_delivered_at"),
            models.Index(fields=["finished_at"], name="message_finished_at"),
            models.Index(fields=["reason_code"], name="message_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to_address} ({self.status})"

    @property
    def is_secret(self) -> bool:
        """A one-time code: only its recipient may ever read it."""
        return self.send_key.startswith(SECRET_SEND_KEY_PREFIXES)

    @property
    def body_for_people(self) -> str:
        return SECRET_BODY if self.is_secret else self.body


# On PostgreSQL, by month (apps.core.partitions): retention drops a month at a time. The
# log by the time of each entry, which is never before its message's creation.
MESSAGES = Partitioned("sends_outboundmessage", "created_at", ("send_key", "provider_sid"))
MESSAGE_LOG = Partitioned("sends_messageevent", "at", ("dedupe_key",))
PARTITIONED_TABLES = (MESSAGES, MESSAGE_LOG)

SECRET_SEND_KEY_PREFIXES = ("verify:",)
SECRET_BODY = "(a one-time code: not shown, and erased once sent)"


class MessageEvent(models.Model):
    """The decision and delivery log of one message: every gate decision, transition and
    provider callback, in order. `dedupe_key` makes a repeated webhook a no-op.

    Partitioned by month of `at` on PostgreSQL (MESSAGE_LOG): nothing may point at it with
    a database constraint."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Gate decision"
        TRANSITION = "transition", "Status change"
        PROVIDER = "provider", "Provider callback"
        ERROR = "error", "Error"

    # No database constraint: messages are partitioned on PostgreSQL (apps.core.partitions).
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, related_name="log", db_constraint=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


class InboundMessage(models.Model):
    """A text someone sent us, on the contact's conversation thread."""

    provider_sid = models.CharField(max_length=64, unique=True)
    from_address = models.CharField(max_length=32, db_index=True)
    to_address = models.CharField(max_length=32)
    messaging_service_sid = models.CharField(
        max_length=34,
        blank=True,
        help_text="The Twilio Messaging Service the text came in through (MessagingServiceSid).",
    )
    body = models.TextField(blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    keyword_kind = models.CharField(max_length=16, blank=True)
    keyword = models.CharField(max_length=160, blank=True)
    # Why the reply was or wasn't taken as an opt-out, for compliance to read: the rule
    # that decided (empty when nothing in it bore on opting out), the language of the word
    # or phrase, and the words involved.
    classification_rule = models.CharField(
        max_length=24, blank=True, choices=keyword_rules.RULE_CHOICES
    )
    classification_language = models.CharField(max_length=8, blank=True)
    classification_detail = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When what the text asks for was done: keywords in the webhook's own request, any
    # other reply by a worker (empty until then; the sweep finds those a lost task left).
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["received_at"], condition=Q(handled_at=None), name="inbound_unhandled"
            )
        ]

    def __str__(self) -> str:
        return f"from {self.from_address}: {self.body[:40]}"


class TrackedLink(models.Model):
    """One tracked link in one message; the token is unguessable and maps to exactly the
    destination declared on the template version."""

    token = models.CharField(max_length=32, unique=True)
    # No database constraint: messages are partitioned on PostgreSQL (apps.core.partitions).
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, related_name="links", db_constraint=False
    )
    key = models.CharField(max_length=64)
    destination = models.URLField(max_length=2000)
    is_key_link = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "key"], name="tracked_link_per_message")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.destination}"


class LinkClick(models.Model):
    """A request for a tracked link; bots and link previewers are kept apart from people."""

    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    is_bot = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"click on {self.link.key} at {self.at:%Y-%m-%d %H:%M}"


class FrequencyCap(models.Model):
    """At most `max_messages` per contact in a rolling window, for one category (and,
    optionally, only for contacts in one state)."""

    name = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    category = models.CharField(max_length=16, choices=MessageCategory.choices)
    window_hours = models.PositiveIntegerField()
    max_messages = models.PositiveIntegerField()
    region = models.CharField(
        max_length=10, blank=True, help_text="Only contacts in this state (e.g. FL); blank = all."
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "window_hours"]

    def __str__(self) -> str:
        where = f" in {self.region}" if self.region else ""
        return f"{self.max_messages} {self.category} per {self.window_hours} h{where}"


class KeywordRule(models.Model):
    """A custom inbound keyword and what it does, besides the carrier-standard ones: for
    texts to every number, or only to one sender or to the senders of one program. The
    standard opt-out words (STOP…) stay global for the number whatever the rules say."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opt out"
        OPT_IN = "opt_in", "Opt in again"
        HELP = "help", "Help"
        REPLY = "reply", "Auto-reply only"

    keyword = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reply = models.CharField(max_length=320, blank=True)
    sender = models.ForeignKey(
        Sender,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="keyword_rules",
        help_text="Only texts to this sender; blank = every sender (or the program's).",
    )
    program = models.ForeignKey(
        "accounts.Program",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="keyword_rules",
        help_text="Only texts to this program's senders.",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["keyword"]
        constraints = [
            models.UniqueConstraint(
                fields=["keyword"],
                condition=Q(sender=None, program=None),
                name="keyword_rule_global",
                violation_error_message="This keyword already has a rule for every sender.",
            ),
            models.UniqueConstraint(
                fields=["keyword", "sender"],
                condition=Q(sender__isnull=False),
                name="keyword_rule_per_sender",
                violation_error_message="This sender already has a rule for this keyword.",
            ),
            models.UniqueConstraint(
                fields=["keyword", "program"],
                condition=Q(program__isnull=False, sender=None),
                name="keyword_rule_per_program",
                violation_error_message="This program already has a rule for this keyword.",
            ),
        ]

    def __str__(self) -> str:
        return self.keyword


class SenderPace(models.Model):
    """A per-sender send schedule shared by every worker: each send claims the next slot."""

    sender = models.CharField(max_length=64, unique=True)
    next_slot_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.sender
