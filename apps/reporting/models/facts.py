from django.conf import settings
from django.db import models


class ConversionKind(models.TextChoices):
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    OPPORTUNITY_CREATED = "opportunity_created", "Opportunity created"
    STAGE_PROGRESSION = "stage_progression", "Stage progression"
    CLOSED_WON = "closed_won", "Closed won (revenue)"


class TouchType(models.TextChoices):
    CLICK = "click", "Human click"
    REPLY = "reply", "Reply"
    DELIVERY = "delivery", "Delivery"
    EMAIL_CLICK = "email_click", "Human email click"
    EMAIL_REPLY = "email_reply", "Email reply"


class Attribution(models.Model):
    """One share of one conversion credited to one SMS or email touch, as the attribution rule
    (AttributionSettings) decided when this range was last computed. Rebuilt per range by
    reporting.attribution; never edited by hand."""

    kind = models.CharField(max_length=24, choices=ConversionKind.choices)
    conversion_id = models.BigIntegerField(
        help_text="The meeting_booked event, or the opportunity stage change."
    )
    contact_id = models.BigIntegerField()
    converted_at = models.DateTimeField()
    value = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="Closed-won amount; 0 otherwise."
    )
    # No database constraint: messages are partitioned on PostgreSQL (apps.core.partitions).
    message = models.ForeignKey(
        "sends.OutboundMessage",
        on_delete=models.CASCADE,
        related_name="attributions",
        db_constraint=False,
    )
    touch_type = models.CharField(max_length=16, choices=TouchType.choices)
    touched_at = models.DateTimeField()
    journey_id = models.BigIntegerField()
    template_version_id = models.BigIntegerField(default=0)
    template_id = models.BigIntegerField(default=0)
    step_id = models.BigIntegerField(default=0)
    credit = models.FloatField(help_text="1 under first or last touch; 1/n under linear.")
    model = models.CharField(max_length=16)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-converted_at", "kind", "conversion_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "conversion_id", "message", "touch_type"],
                name="attribution_once_per_touch",
            )
        ]
        indexes = [
            models.Index(fields=["converted_at"], name="attribution_converted_at"),
            models.Index(fields=["journey_id", "converted_at"], name="attribution_journey"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.conversion_id} ← message {self.message_id}"


ROLLUP_COUNTERS = (
    "enrolled",
    "enrolled_holdout",
    "converted",
    "converted_holdout",
    "sent",
    "delivered",
    "failed",
    "human_clicks",
    "bot_clicks",
    "replies",
    "opt_outs",
    "complaints",
    "quiet_hours_deferrals",
    "cap_suppressions",
    "tasks_created",
    "sla_met",
    "sla_missed",
)
ROLLUP_CREDITS = ("meetings", "opportunities", "progressions", "revenue")


class DailyRollup(models.Model):
    """The counters of one day for one journey, template version and step (0 = none), kept
    up to date by a beat task (reporting.rollups). The dashboard reads only these rows.

    Each counter counts on the day its own event happened: sent on the day it was sent,
    a click on the day of the click, an enrollment on the day it entered. Meetings,
    opportunities, progressions and revenue are attributed credit (see Attribution)."""

    day = models.DateField()
    journey_id = models.BigIntegerField(default=0)
    template_version_id = models.BigIntegerField(default=0)
    template_id = models.BigIntegerField(default=0)
    step_id = models.BigIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    enrolled_holdout = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(
        default=0, help_text="Messaged enrollments of this day that met the goal (holdout lift)."
    )
    converted_holdout = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    failed_by_error = models.JSONField(default=dict, blank=True, help_text="{error code: n}")
    human_clicks = models.PositiveIntegerField(default=0)
    bot_clicks = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    opt_outs = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    quiet_hours_deferrals = models.PositiveIntegerField(default=0)
    cap_suppressions = models.PositiveIntegerField(default=0)
    tasks_created = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    sla_missed = models.PositiveIntegerField(default=0)
    first_touch_minutes = models.JSONField(
        default=dict, blank=True, help_text="{minute bucket: tasks first touched within it}"
    )
    meetings = models.FloatField(default=0)
    opportunities = models.FloatField(default=0)
    progressions = models.FloatField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "journey_id", "template_version_id", "step_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "journey_id", "template_version_id", "step_id"],
                name="daily_rollup_key",
            )
        ]
        indexes = [models.Index(fields=["journey_id", "day"], name="daily_rollup_journey")]

    def __str__(self) -> str:
        return f"{self.day} journey {self.journey_id} v{self.template_version_id} s{self.step_id}"


class RollupState(models.Model):
    """Where the incremental rollup stopped: the highest id seen per source table, so the
    next run recomputes only the days that rows added since then touch."""

    name = models.CharField(max_length=32, unique=True)
    watermarks = models.JSONField(default=dict, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_days = models.JSONField(default=list, blank=True, help_text="Days recomputed last.")

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at}"


class RollupRefresh(models.Model):
    """A person's "refresh the figures now": queued, then started by the worker (claimed
    once), then finished with the days it recomputed, so the dashboard can show progress."""

    class Stage(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Refreshing"
        DONE = "done", "Done"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    days = models.PositiveIntegerField(default=0, help_text="Days recomputed.")

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Refresh asked at {self.requested_at:%Y-%m-%d %H:%M}: {self.stage}"

    @property
    def stage(self) -> str:
        if self.finished_at is not None:
            return self.Stage.DONE
        return self.Stage.RUNNING if self.started_at is not None else self.Stage.QUEUED
