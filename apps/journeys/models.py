from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from apps.contacts.models import Contact, Event, Segment, StageMeaning


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


class JourneySettings(models.Model):
    """What a journey does besides its steps: its trigger and entry, its goal, its rules.
    A version holds them with its steps (what is published never changes in place); the
    journey keeps a copy of its live version's, written only by journey_settings_follow, for
    the indexed trigger look-up and the entry decisions."""

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
        related_name="entry_%(class)ss",
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
    exit_pipeline_stage = models.ForeignKey(
        "contacts.PipelineStage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="goal_of_%(class)ss",
        limit_choices_to=~Q(meaning=StageMeaning.LOST),
        help_text="The goal is met once an opportunity of the contact reaches this stage of "
        "its pipeline, or a later stage that is not lost.",
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

    class Meta:
        abstract = True

    def settings(self) -> dict:
        """{field: value}, the segment by its id: what settings_take copies."""
        return {name: getattr(self, name) for name in SETTINGS_ATTRIBUTES}

    def settings_take(self, source: "JourneySettings") -> list[str]:
        """Takes `source`'s settings (in memory: the caller saves); returns the fields."""
        for name, value in source.settings().items():
            setattr(self, name, value)
        return [*SETTINGS_FIELDS]


SETTINGS_FIELDS = [
    "trigger_kind", "trigger_event_type", "trigger_filters", "entry_segment",
    "exit_event_types", "exit_lifecycle_stage", "exit_on_opportunity", "exit_pipeline_stage",
    "reentry", "reentry_days", "cap_messages", "cap_hours", "send_weekdays", "holdout_percent",
]  # fmt: skip
# Settings that name a row: compared and copied by the row's id.
_SETTINGS_NAMING_ROWS = frozenset({"entry_segment", "exit_pipeline_stage"})


def settings_attribute(name: str) -> str:
    """The attribute holding a setting's value as stored: a row's id for a foreign key."""
    return name + "_id" if name in _SETTINGS_NAMING_ROWS else name


SETTINGS_ATTRIBUTES = [settings_attribute(name) for name in SETTINGS_FIELDS]


def holdout_at_most_half(model_name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(holdout_percent__lte=50),
        name=f"{model_name}_holdout_at_most_half",
        violation_error_message="Hold out at most half of the entrants.",
    )


class Journey(JourneySettings):
    """An event-triggered path for a contact: each message has a role, and the journey ends
    the moment its goal is met."""

    name = models.CharField(max_length=200, unique=True)
    goal_description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT, db_index=True
    )
    first_step = models.ForeignKey(
        "journeys.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    live_version = models.ForeignKey(
        "journeys.JourneyVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The published version: the one new entrants start on.",
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
        constraints = [holdout_at_most_half("journey")]

    def __str__(self) -> str:
        return self.name

    def version_shown(self) -> "JourneyVersion | None":
        """The version the builder shows: the one in the works, else the live one, else
        the latest."""
        versions = self.versions.order_by("-number")
        return versions.filter(status__in=JourneyVersionStatus.open()).first() or (
            self.live_version or versions.first()
        )


class JourneyVersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"

    @classmethod
    def open(cls) -> list[str]:
        """Not yet published: at most one such version per journey."""
        return [cls.DRAFT, cls.SUBMITTED, cls.APPROVED]


class JourneyVersion(JourneySettings):
    """One version of a journey: its steps and its settings. A draft is edited, submitted,
    approved by someone other than its author and published; what is published never changes
    in place, and its enrollments keep running on it (steps and settings) after a newer
    version is published."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=JourneyVersionStatus.choices, default=JourneyVersionStatus.DRAFT
    )
    first_step = models.ForeignKey(
        "journeys.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    change_summary = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    enrollments_moved = models.JSONField(
        default=dict,
        blank=True,
        help_text="When publishing moved running enrollments here: the step mapping and counts.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["journey", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "number"],
                name="journey_version_number_unique",
                violation_error_message="This journey already has a version with this number.",
            ),
            models.UniqueConstraint(
                fields=["journey"],
                condition=Q(status="published"),
                name="journey_one_published_version",
                violation_error_message="Another version of this journey is published.",
            ),
            models.UniqueConstraint(
                fields=["journey"],
                condition=Q(status__in=["draft", "submitted", "approved"]),
                name="journey_one_open_version",
                violation_error_message="This journey already has a version in the works.",
            ),
            holdout_at_most_half("journey_version"),
        ]

    def __str__(self) -> str:
        return f"{self.journey} v{self.number} ({self.get_status_display().lower()})"

    @property
    def start_step_id(self) -> int | None:
        """Its first step. A version made the old way (steps saved on the journey) starts
        where the journey does, if it is the live one or nothing is live yet."""
        if self.first_step_id is not None:
            return self.first_step_id
        live_id = self.journey.live_version_id
        return self.journey.first_step_id if live_id in (None, self.pk) else None

    @property
    def editable(self) -> bool:
        return self.status == JourneyVersionStatus.DRAFT

    @classmethod
    def working_for(cls, journey: Journey) -> "JourneyVersion":
        """The version a step saved without one joins: the open draft, else the latest
        version, else a first one (published if the journey already runs)."""
        versions = cls.objects.filter(journey=journey)
        found = versions.filter(status__in=JourneyVersionStatus.open()).first()
        found = found or versions.order_by("-number").first()
        if found is not None:
            return found
        runs = journey.status != JourneyStatus.DRAFT
        version = cls(
            journey=journey,
            number=1,
            status=JourneyVersionStatus.PUBLISHED if runs else JourneyVersionStatus.DRAFT,
            author=journey.owner,
            published_at=journey.activated_at if runs else None,
        )
        version.settings_take(journey)  # the settings the journey was made with
        version.save()
        if runs:
            Journey.objects.filter(pk=journey.pk).update(live_version=version)
            journey.live_version = version
        return version


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
    version = models.ForeignKey(JourneyVersion, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=64)
    kind = models.CharField(max_length=24, choices=StepKind.choices)
    config = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["journey", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key"],
                name="step_key_unique_in_version",
                violation_error_message="Another step of this version has this key.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        # A step made the old way (journey only) joins the journey's working version.
        if self.version_id is None and self.journey_id is not None:
            self.version = JourneyVersion.working_for(self.journey)
        elif self.journey_id is None and self.version_id is not None:
            self.journey_id = self.version.journey_id
        super().save(*args, **kwargs)


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
    version = models.ForeignKey(
        JourneyVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrollments",
        help_text="The version it runs on: the one it entered, unless a publish moved it.",
    )
    current_step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        max_length=16, choices=EnrollmentState.choices, default=EnrollmentState.ACTIVE
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    step_entered_at = models.DateTimeField(null=True, blank=True)
    visits = models.JSONField(default=dict, blank=True, help_text="{step key: times entered}")
    # No database constraint: events are partitioned on PostgreSQL (apps.core.partitions).
    triggering_event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
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

    @property
    def settings(self) -> JourneySettings:
        """The settings it runs with (goal, cap, sending days): its version's, kept when a
        newer version is published. One made before versions had none runs with the
        journey's."""
        return self.version if self.version_id is not None else self.journey


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


class AdvanceSlot(models.Model):
    """One of the advance runs allowed at once (settings.CUE_ADVANCE_RUNS). A run holds a
    slot, taken by a conditional UPDATE, for as long as a task can live: a run that died
    lets its slot go when the lease lapses."""

    number = models.PositiveSmallIntegerField(unique=True)
    held_by = models.CharField(max_length=32, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"advance slot {self.number}"
