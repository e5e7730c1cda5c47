from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from apps.contacts.models import Contact, Event, Segment


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class TriggerKind(models.TextChoices):
    EVENT = "event", "An event happens"
    SEGMENT_ENTRY = "segment_entry", "The contact enters a segment"


class ReentryPolicy(models.TextChoices):
    NEVER = "never", "Never"
    AFTER_DAYS = "after_days", "After a number of days"


class Journey(models.Model):
    """An event-triggered path for a contact: each message has a role, and the journey ends
    the moment its goal is met."""

    name = models.CharField(max_length=200, unique=True)
    goal_description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT, db_index=True
    )
    trigger_kind = models.CharField(
        max_length=16, choices=TriggerKind.choices, default=TriggerKind.EVENT
    )
    trigger_event_type = models.CharField(max_length=64, blank=True, db_index=True)
    trigger_filters = models.JSONField(
        default=dict,
        blank=True,
        help_text='Event properties that must match, e.g. {"form": "demo"}.',
    )
    entry_segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entry_journeys",
        help_text="Only contacts in this segment enter (the CRM gate).",
    )
    exit_event_types = models.JSONField(
        default=list, blank=True, help_text='Goal events, e.g. ["meeting_booked", "demo_request"].'
    )
    exit_lifecycle_stage = models.CharField(
        max_length=64, blank=True, help_text="The goal is met once the contact reaches this stage."
    )
    exit_on_opportunity = models.BooleanField(
        default=False, help_text="The goal is met when an opportunity is created or advances."
    )
    reentry = models.CharField(
        max_length=16, choices=ReentryPolicy.choices, default=ReentryPolicy.NEVER
    )
    reentry_days = models.PositiveIntegerField(null=True, blank=True)
    cap_messages = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many messages per contact from this journey…"
    )
    cap_hours = models.PositiveIntegerField(null=True, blank=True, help_text="…in this many hours.")
    send_weekdays = models.JSONField(
        default=list,
        blank=True,
        help_text="Weekdays messages may go out (0 = Monday); empty = any.",
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, help_text="A random share of entrants that is never messaged (lift control)."
    )
    first_step = models.ForeignKey(
        "journeys.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        permissions = [("activate_journey", "Can activate and pause journeys")]
        indexes = [
            models.Index(
                fields=["trigger_event_type"],
                condition=Q(status="active"),
                name="journey_active_trigger",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_percent__lte=50),
                name="journey_holdout_at_most_half",
                violation_error_message="Hold out at most half of the entrants.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    SEND_SMS = "send_sms", "Send SMS"
    SEND_EMAIL = "send_email", "Send email"
    WAIT = "wait", "Wait"
    WAIT_UNTIL = "wait_until", "Wait until an event (or time out)"
    BRANCH = "branch", "Branch on a condition"
    SPLIT = "split", "A/B split"
    CREATE_TASK = "create_task", "Create a follow-up task"
    SET_LIFECYCLE_STAGE = "set_lifecycle_stage", "Set lifecycle stage"
    EXIT = "exit", "Exit"


class Step(models.Model):
    """One node of a journey's graph. Its settings and outgoing edges (step keys) live in
    `config`; each kind's shape is its spec's config (apps/journeys/steps/<kind>.py)."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=64)
    kind = models.CharField(max_length=24, choices=StepKind.choices)
    config = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["journey", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "key"],
                name="step_key_unique",
                violation_error_message="Another step of this journey has this key.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_kind_display()})"


class EnrollmentState(models.TextChoices):
    ACTIVE = "active", "Active"
    WAITING = "waiting", "Waiting"
    COMPLETED = "completed", "Completed"
    GOAL_REACHED = "goal_reached", "Goal reached"
    EXITED = "exited", "Exited"
    SUPPRESSED = "suppressed", "Suppressed"
    FAILED = "failed", "Failed"

    @classmethod
    def running(cls) -> list[str]:
        return [cls.ACTIVE, cls.WAITING]


class Enrollment(models.Model):
    """One contact's way through one journey. At most one runs per contact and journey."""

    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="enrollments")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrollments")
    current_step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        max_length=16, choices=EnrollmentState.choices, default=EnrollmentState.ACTIVE
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    step_entered_at = models.DateTimeField(null=True, blank=True)
    visits = models.JSONField(default=dict, blank=True, help_text="{step key: times entered}")
    triggering_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_holdout = models.BooleanField(default=False)
    variants = models.JSONField(default=dict, blank=True, help_text="{split step key: variant}")
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    entered_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "contact"],
                condition=Q(state__in=["active", "waiting"]),
                name="enrollment_one_running",
                violation_error_message="This contact is already in this journey.",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"],
                condition=Q(state__in=["active", "waiting"]),
                name="enrollment_due",
            ),
            models.Index(fields=["contact", "state"], name="enrollment_contact_state"),
            # Daily rollups count enrollments by the day they entered.
            models.Index(fields=["entered_at"], name="enrollment_entered_at"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} in {self.journey} ({self.state})"


class Activity(models.Model):
    """The append-only log of an enrollment: each step taken and each decision, with why."""

    class Kind(models.TextChoices):
        ENTERED = "entered", "Entered"
        STEP = "step", "Step"
        MESSAGE = "message", "Message"
        WAIT = "wait", "Wait"
        DECISION = "decision", "Decision"
        TASK = "task", "Task"
        GOAL = "goal", "Goal reached"
        EXIT = "exit", "Exit"
        ERROR = "error", "Error"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="activity")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    step_key = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.kind} {self.step_key}: {self.reason[:60]}"
