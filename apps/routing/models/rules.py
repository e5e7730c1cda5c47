from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible
from simple_history.models import HistoricalRecords

from apps.accounts.models import Team, User
from apps.routing.models.choices import (
    Intent,
    JourneyScope,
    Priority,
    SignalType,
    SlaClock,
    Strategy,
)


class IntentPhrase(models.Model):
    """An admin's own phrase for the reply classifier, on top of the built-in ones.

    Matched as whole words, case-insensitively; where it overlaps a built-in phrase of the
    same length, this one wins (so "pass" can be taught to mean something else here)."""

    phrase = models.CharField(max_length=100, unique=True)
    intent = models.CharField(max_length=16, choices=Intent.choices)
    weight = models.FloatField(
        default=0.8, help_text="How sure the phrase makes us, from 0.05 to 1."
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["phrase"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=0.05, weight__lte=1),
                name="intent_phrase_weight_range",
                violation_error_message="The weight must be between 0.05 and 1.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.phrase!r} → {self.intent}"

    def clean(self) -> None:
        self.phrase = " ".join(self.phrase.lower().split())
        if not self.phrase:
            raise ValidationError({"phrase": "Give a word or a few words."})


@deconstructible
class ChoiceListValidator:
    """A JSON list whose items all come from `choices`."""

    def __init__(self, choices: list[str], noun: str):
        self.choices, self.noun = list(choices), noun

    def __call__(self, value) -> None:
        if not isinstance(value, list) or any(item not in self.choices for item in value):
            raise ValidationError(f"Give a list of {self.noun}: {', '.join(self.choices)}.")

    def __eq__(self, other) -> bool:
        return isinstance(other, ChoiceListValidator) and (self.choices, self.noun) == (
            other.choices,
            other.noun,
        )


class RoutingRule(models.Model):
    """Which signals become follow-up tasks, for whom, and how fast.

    Rules are tried in `position` order; the first active rule whose conditions all hold
    routes the signal. Empty conditions match anything."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    # Conditions
    signal_types = models.JSONField(
        default=list,
        blank=True,
        validators=[ChoiceListValidator(SignalType.values, "signal types")],
        help_text="Empty: every kind of signal.",
    )
    intents = models.JSONField(
        default=list,
        blank=True,
        validators=[ChoiceListValidator(Intent.values, "intents")],
        help_text="Replies only. Empty: any intent (and signals that have none).",
    )
    min_confidence = models.FloatField(
        default=0, help_text="Replies only: the classifier's confidence must reach this (0–1)."
    )
    contact_rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='Segment rules the contact must match, e.g. {"all": [{"field": '
        '"lifecycle_stage", "op": "in", "value": ["mql", "sql"]}]}. Empty: any contact.',
    )
    journey_scope = models.CharField(
        max_length=16, choices=JourneyScope.choices, default=JourneyScope.ANY
    )
    journey_id = models.BigIntegerField(
        null=True, blank=True, help_text="Only signals from this journey (its id)."
    )
    # What happens
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="routing_rules",
        help_text="Round robin runs over this team's reps; its queue is the fallback.",
    )
    strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.OWNER_FIRST
    )
    sla_minutes = models.PositiveIntegerField(default=15)
    sla_clock = models.CharField(max_length=8, choices=SlaClock.choices, default=SlaClock.BUSINESS)
    warn_at_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Warn the owner when this share of the SLA has passed."
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    notify_email = models.BooleanField(default=True, help_text="Email the owner at once.")
    notify_sms = models.BooleanField(
        default=True, help_text="Text the owner too, if they turned SMS alerts on."
    )
    reassign_on_breach = models.BooleanField(
        default=False, help_text="On breach, move the task to the team queue."
    )
    dedupe_window_minutes = models.PositiveIntegerField(
        default=24 * 60,
        help_text="A new signal for a contact with an open task for the same reason, created "
        "within this window, is added to that task instead of making a new one.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_minutes__gt=0),
                name="routing_rule_sla_positive",
                violation_error_message="The SLA must be at least one minute.",
            ),
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1, warn_at_percent__lte=99),
                name="routing_rule_warn_range",
                violation_error_message="Warn between 1% and 99% of the SLA.",
            ),
            models.CheckConstraint(
                condition=Q(min_confidence__gte=0, min_confidence__lte=1),
                name="routing_rule_confidence_range",
                violation_error_message="The minimum confidence is between 0 and 1.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from apps.contacts.segments import segment_rules_validate

        if self.contact_rules:
            errors = segment_rules_validate(self.contact_rules)
            if errors:
                raise ValidationError({"contact_rules": errors})


class TeamCursor(models.Model):
    """Where round robin stands in one team. Locked while a rep is picked, so two signals
    arriving together never both go to the same rep by accident."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="routing_cursor")
    last_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.team}: after {self.last_user or 'nobody'}"
