from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class SingletonModel(models.Model):
    """One row (pk 1) that people edit in the admin; `current()` makes it on first use."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls):
        row = cls.objects.filter(pk=1).first()
        if row is None:
            row, _ = cls.objects.get_or_create(pk=1)
        return row


class AttributionModel(models.TextChoices):
    LAST_TOUCH = "last_touch", "Last touch: all credit to the latest qualifying touch"
    FIRST_TOUCH = "first_touch", "First touch: all credit to the earliest qualifying touch"
    LINEAR = "linear", "Linear: credit shared equally by every qualifying touch"


class AttributionSettings(SingletonModel):
    """The one attribution rule every report uses: which touches count (SMS clicks, replies
    and deliveries; email clicks and replies, never opens: mail clients open emails nobody
    read), for how long after each a conversion is still theirs, how credit is shared, and
    what is attributed.

    Changing it changes history: recompute the attribution for the range you care about
    (Reporting → Attribution → Recompute), or wait for the nightly rebuild of the recent days.
    """

    count_clicks = models.BooleanField(
        "count human clicks", default=True, help_text="A person's click on a tracked link."
    )
    count_replies = models.BooleanField("count replies", default=True)
    count_deliveries = models.BooleanField(
        "count deliveries", default=True, help_text="The message reached the phone."
    )
    click_window_hours = models.PositiveIntegerField(
        default=120, validators=[MinValueValidator(1)], help_text="5 days = 120 hours."
    )
    reply_window_hours = models.PositiveIntegerField(default=120, validators=[MinValueValidator(1)])
    delivery_window_hours = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1)]
    )
    count_email_clicks = models.BooleanField(
        "count human email clicks",
        default=True,
        help_text="A person's click on a tracked link in an email (bots and scanners never count).",
    )
    count_email_replies = models.BooleanField("count email replies", default=True)
    email_click_window_hours = models.PositiveIntegerField(
        default=168, validators=[MinValueValidator(1)], help_text="7 days = 168 hours."
    )
    email_reply_window_hours = models.PositiveIntegerField(
        default=168, validators=[MinValueValidator(1)]
    )
    model = models.CharField(
        max_length=16, choices=AttributionModel.choices, default=AttributionModel.LAST_TOUCH
    )
    attribute_meetings = models.BooleanField("attribute meetings booked", default=True)
    attribute_opportunities = models.BooleanField("attribute opportunities created", default=True)
    attribute_progressions = models.BooleanField(
        "attribute stage progressions", default=True, help_text="Each move to a later stage."
    )
    attribute_revenue = models.BooleanField("attribute closed-won revenue", default=True)
    holdout_window_days = models.PositiveIntegerField(
        default=14,
        validators=[MinValueValidator(1)],
        help_text="Holdout lift: an enrollment converts when its goal is met or the contact "
        "books a meeting within this many days of entering.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "attribution settings"
        verbose_name_plural = "attribution settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="attribution_settings_single_row")
        ]

    def __str__(self) -> str:
        return f"Attribution: {self.get_model_display().split(':')[0].lower()}"

    def windows_hours(self) -> dict[str, int]:
        """{touch type: window in hours} for the touch types that count."""
        windows = {
            "click": (self.count_clicks, self.click_window_hours),
            "reply": (self.count_replies, self.reply_window_hours),
            "delivery": (self.count_deliveries, self.delivery_window_hours),
            "email_click": (self.count_email_clicks, self.email_click_window_hours),
            "email_reply": (self.count_email_replies, self.email_reply_window_hours),
        }
        return {kind: hours for kind, (counts, hours) in windows.items() if counts}


class FatigueSettings(SingletonModel):
    """When a journey's messages wear people out, the guard pauses the journey: opt-out or
    failure rate over a rolling window, once there is enough volume to judge."""

    is_enabled = models.BooleanField(default=True)
    window_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1)], help_text="The rolling window."
    )
    min_messages = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1)],
        help_text="Below this many messages (per journey and template) in the window the "
        "guard never pauses: too few to judge.",
    )
    opt_out_percent_limit = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
        help_text="Pause when opt-outs per message sent reach this share.",
    )
    failure_percent_limit = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
        help_text="Pause when failed or undelivered messages per message sent reach this share.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "fatigue settings"
        verbose_name_plural = "fatigue settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="fatigue_settings_single_row")
        ]

    def __str__(self) -> str:
        return (
            f"Fatigue guard: opt-outs ≥ {self.opt_out_percent_limit}% or failures ≥ "
            f"{self.failure_percent_limit}% over {self.window_hours} h, from "
            f"{self.min_messages} messages"
        )


class FatigueMetric(models.TextChoices):
    OPT_OUT_RATE = "opt_out_rate", "Opt-out rate"
    FAILURE_RATE = "failure_rate", "Failure rate"


class FatigueBreach(models.Model):
    """One breach the fatigue guard acted on. Its window starts where the last breach of the
    same journey, template and metric was detected, and the pair is unique: the same
    messages never pause a journey twice, not even when two guards run at once."""

    journey = models.ForeignKey(
        "journeys.Journey", on_delete=models.CASCADE, related_name="fatigue_breaches"
    )
    template = models.ForeignKey(
        "library.MessageTemplate", on_delete=models.CASCADE, related_name="fatigue_breaches"
    )
    metric = models.CharField(max_length=16, choices=FatigueMetric.choices)
    window_start = models.DateTimeField()
    detected_at = models.DateTimeField(db_index=True)
    messages = models.PositiveIntegerField(help_text="Messages sent in the window.")
    hits = models.PositiveIntegerField(help_text="Opt-outs or failures among them.")
    rate_percent = models.DecimalField(max_digits=6, decimal_places=2)
    limit_percent = models.DecimalField(max_digits=5, decimal_places=2)
    journey_paused = models.BooleanField(
        default=False, help_text="Whether this breach paused the journey (it was active)."
    )
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name_plural = "fatigue breaches"
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "template", "metric", "window_start"],
                name="fatigue_breach_once",
            )
        ]

    def __str__(self) -> str:
        return self.reason
