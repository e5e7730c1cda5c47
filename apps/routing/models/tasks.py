from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.accounts.models import Team, User
from apps.contacts.models import Contact, Event
from apps.routing.models.choices import (
    OPEN_STATUSES,
    AssignmentKind,
    EscalationKind,
    Intent,
    NotificationKind,
    Outcome,
    Priority,
    SignalType,
    SlaClock,
    TaskStatus,
)
from apps.routing.models.rules import RoutingRule


class FollowUpTaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def sla_running(self):
        """Open and untouched: the SLA is the time to the first touch."""
        return self.filter(status=TaskStatus.OPEN, first_touch_at=None)


class FollowUpTask(models.Model):
    """Someone should follow up with a contact, soon: who, why, and by when.

    The SLA clock runs until the first touch (started, replied to or completed). New
    signals for the same contact and reason land on the open task as TaskSignal rows."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="followup_tasks")
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="followup_tasks"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="followup_tasks"
    )
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    signal_type = models.CharField(max_length=16, choices=SignalType.choices)
    intent = models.CharField(max_length=16, choices=Intent.choices, blank=True)
    reason_code = models.CharField(
        max_length=64, help_text="What de-duplicates: one open task per contact and reason."
    )
    reason = models.CharField(max_length=300, help_text="Why, in words a rep can act on.")
    context = models.JSONField(default=dict, blank=True)
    journey_id = models.BigIntegerField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignment = models.CharField(max_length=16, choices=AssignmentKind.choices)
    assignment_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner last opened it; empty shows it as new."
    )
    sla_minutes = models.PositiveIntegerField()
    sla_clock = models.CharField(max_length=8, choices=SlaClock.choices)
    warn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    last_signal_at = models.DateTimeField(null=True, blank=True)
    signal_count = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["seen_at"])

    objects = FollowUpTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = "follow-up task"
        permissions = [
            ("work_followuptask", "Can work follow-up tasks: start, reply, complete, hand back"),
            ("reassign_followuptask", "Can reassign follow-up tasks to a rep in the team"),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_status_due"),
            models.Index(fields=["team", "status", "due_at"], name="task_team_status_due"),
            models.Index(fields=["contact", "reason_code", "status"], name="task_contact_reason"),
            # The SLA sweep reads only what is due, through these: never every open task.
            models.Index(
                fields=["due_at"],
                condition=Q(status="open", first_touch_at=None, breached_at=None),
                name="task_sla_due",
            ),
            models.Index(
                fields=["warn_at"],
                condition=Q(status="open", first_touch_at=None, warned_at=None),
                name="task_sla_warn",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(outcome=""),
                name="task_done_has_outcome",
                violation_error_message="A done task needs an outcome.",
            ),
            models.CheckConstraint(
                condition=Q(warn_at__lte=models.F("due_at")),
                name="task_warn_before_due",
                violation_error_message="The SLA warning must come before the due time.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact}: {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def sla_state(self) -> str:
        if self.breached_at:
            return "breached"
        if self.first_touch_at:
            return "met"
        if not self.is_open:
            return "closed"
        return "warned" if self.warned_at else "on_track"


class TaskSignal(models.Model):
    """One signal on a task: the first made it, later ones were appended to it.

    `key` is the signal's idempotency key (e.g. "event:123"): handling the same event or
    journey step twice finds its row and changes nothing."""

    task = models.ForeignKey(FollowUpTask, on_delete=models.CASCADE, related_name="signals")
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    signal_type = models.CharField(max_length=16, choices=SignalType.choices)
    intent = models.CharField(max_length=16, choices=Intent.choices, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    context = models.JSONField(default=dict, blank=True)
    # No database constraint: events are partitioned on PostgreSQL (apps.core.partitions).
    event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    journey_id = models.BigIntegerField(null=True, blank=True)
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return self.reason


class TaskEscalation(models.Model):
    """An SLA step taken on a task. At most one of each kind per task, by constraint: a
    sweep that runs twice, or two sweeps at once, cannot warn or escalate twice."""

    task = models.ForeignKey(FollowUpTask, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(max_length=16, choices=EscalationKind.choices)
    at = models.DateTimeField()
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who owned the task at that moment.",
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "kind"], name="task_escalation_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class TaskNotification(models.Model):
    """One thing a person is told about a task, by email and by SMS as the rule and the
    person's settings say (in-app, the task shows as new on /tasks/ until opened). `sent_at`
    is claimed before sending; the notification's id makes the SMS send key, so a retried
    notification never texts twice."""

    task = models.ForeignKey(FollowUpTask, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    by_email = models.BooleanField(default=True)
    by_sms = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sms_message_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at=None), name="notification_unsent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"
