"""The builder's forms: a journey's settings, and each step's settings as plain fields that
are stored into Step.config in the shape apps/journeys/graph.py describes."""

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.fields import InvalidJSONInput
from django.forms.models import BaseInlineFormSet

from apps.contacts.models import validate_event_type
from apps.contacts.stages import lifecycle_choices
from apps.core.text import StorableJSONField
from apps.journeys.admin.step_config import (
    STEP_KEY,
    condition_errors,
    config_from_fields,
    config_initial,
)
from apps.journeys.graph import journey_problems
from apps.journeys.models import (
    Enrollment,
    EnrollmentState,
    Journey,
    JourneyStatus,
    Step,
    StepKind,
)
from apps.journeys.moments import LATE_AFTER_MINUTES, MAX_OFFSET_MINUTES

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
UNITS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
ON_SUPPRESSED = [("continue", "go on to the next step"), ("exit", "end the journey")]
ON_DEFERRED = [("wait", "wait for it to go"), ("continue", "go on without waiting")]
EDGE_HELP = "The key of the step that comes next; leave it empty to end the journey there."


def _stage_choices() -> list[tuple[str, str]]:
    """The customer's lifecycle stages, read when the form is built (they are data)."""
    return [("", "—"), *lifecycle_choices()]


class StepKeyField(forms.CharField):
    """The key of another step of this journey, or empty (the journey ends)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 16}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not STEP_KEY.match(value):
            raise ValidationError("A step key has letters, digits, - and _ only.")


class EventTypesField(forms.CharField):
    """Event types, comma-separated in the form, a list in the model."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        types = [part.strip() for part in re.split(r"[,\s]+", value or "") if part.strip()]
        for event_type in types:
            try:
                validate_event_type(event_type)
            except ValidationError as error:
                raise ValidationError(f"{event_type!r}: {error.messages[0]}") from error
        return types


class JSONTextField(StorableJSONField):
    """JSON shown indented; empty input is None."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput) or value in (None, ""):
            return value or ""
        return json.dumps(value, indent=2, ensure_ascii=False)


class VariantsField(forms.CharField):
    """One variant per line: name, percent, next step (e.g. `A, 50, offer_a`)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        if not isinstance(value, list):
            return value
        return "\n".join(
            ", ".join(
                str(part) for part in (v.get("name"), v.get("percent"), v.get("next")) if part
            )
            for v in value
        )

    def to_python(self, value):
        if isinstance(value, list):
            return value
        variants = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            if line.strip():
                variants.append(_variant(line, number))
        return variants


def _variant(line: str, number: int) -> dict:
    parts = [p.strip() for p in (line.split(",") if "," in line else line.split())]
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise ValidationError(
            f"Line {number}: write name, percent, next step — e.g. A, 50, offer_a."
        )
    if len(parts) == 3 and not STEP_KEY.match(parts[2]):
        raise ValidationError(f"Line {number}: {parts[2]!r} is not a step key.")
    variant = {"name": parts[0], "percent": int(parts[1])}
    return {**variant, "next": parts[2]} if len(parts) == 3 else variant


class JourneyForm(forms.ModelForm):
    trigger_filters = JSONTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text='Event properties that must match, e.g. {"form": "demo"}.',
    )
    exit_event_types = EventTypesField(
        required=False,
        label="Goal events",
        help_text="Comma-separated, e.g. meeting_booked, demo_request. Any one ends the journey.",
    )
    exit_lifecycle_stage = forms.ChoiceField(
        required=False,
        label="Goal stage",
        choices=_stage_choices,
        help_text="The goal is met once the contact reaches this stage (or a later one).",
    )
    send_weekdays = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        label="Sending days",
        help_text="In the contact's own time zone; none ticked means any day.",
    )

    class Meta:
        model = Journey
        fields = [
            "name", "goal_description", "trigger_kind", "trigger_event_type", "trigger_filters",
            "entry_segment", "exit_event_types", "exit_lifecycle_stage", "exit_on_opportunity",
            "reentry", "reentry_days", "cap_messages", "cap_hours", "send_weekdays",
            "holdout_percent", "first_step",
        ]  # fmt: skip
        widgets = {"goal_description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "first_step" in self.fields:
            steps = Step.objects.filter(journey_id=self.instance.pk).order_by("position", "id")
            self.fields["first_step"].queryset = steps
            self.fields["first_step"].help_text = (
                "Empty: the step listed first below." if self.instance.pk else
                "Save the journey with its steps first; the step listed first starts it."
            )  # fmt: skip

    def clean_trigger_filters(self):
        value = self.cleaned_data["trigger_filters"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Give an object, e.g. {"form": "demo"}.')
        return value


class StepForm(forms.ModelForm):
    """A step's settings as fields; `clean` writes them into `config` for the step's kind.
    Template choices are given per request (one query for all the forms)."""

    sms_template = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="SMS template"
    )
    email_template = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Email template"
    )
    on_suppressed = forms.ChoiceField(
        choices=ON_SUPPRESSED, initial="continue", label="If not allowed"
    )
    on_deferred = forms.ChoiceField(
        choices=ON_DEFERRED, initial="wait", label="If deferred (quiet hours…)"
    )
    wait_amount = forms.IntegerField(min_value=1, required=False, label="Wait")
    wait_unit = forms.ChoiceField(choices=UNITS, initial="hours", label="Unit")
    until_property = forms.RegexField(
        regex=r"^[A-Za-z0-9_.-]{1,64}$",
        required=False,
        label="Or wait until the time in the event's",
        help_text="A property of the triggering event holding an ISO 8601 time, e.g. starts_at.",
    )
    offset_minutes = forms.IntegerField(
        required=False,
        min_value=-MAX_OFFSET_MINUTES,
        max_value=MAX_OFFSET_MINUTES,
        label="Minutes from it",
        help_text="Negative is before: -60 is one hour before.",
    )
    late_after_minutes = forms.IntegerField(
        required=False,
        min_value=0,
        label="Too late after (min)",
        help_text=f"Past that moment by more than this, the step is missed "
        f"(default {LATE_AFTER_MINUTES}).",
    )
    on_missed = StepKeyField(
        label="If missed, go to",
        help_text="When the event has no such time or it is too late. Empty: the journey ends.",
    )
    events = EventTypesField(
        required=False, label="Events", help_text="Comma-separated, e.g. webinar_attended."
    )
    within_hours = forms.IntegerField(min_value=1, required=False, label="At most (hours)")
    on_timeout = StepKeyField(label="If none in time, go to", help_text=EDGE_HELP)
    condition = JSONTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "class": "cue-json"}),
        help_text='{"rules": <segment rules>} or {"step_outcome": {"step": "<key>", "is": '
        '"delivered" | "clicked" | "replied" | "opened"}}.',
    )
    then_step = StepKeyField(label="If it holds, go to")
    else_step = StepKeyField(label="Otherwise, go to")
    variants = VariantsField(
        required=False, help_text="One per line: name, percent, next step — e.g. A, 50, offer_a."
    )
    task_reason = forms.CharField(required=False, max_length=300, label="Why follow up")
    stage = forms.ChoiceField(required=False, choices=_stage_choices, label="Set stage to")
    next_step = StepKeyField(label="Then go to", help_text=EDGE_HELP)

    template_choices: dict = {"sms": [], "email": []}

    class Meta:
        model = Step
        fields = ["key", "kind", "position"]
        widgets = {"position": forms.NumberInput(attrs={"style": "width: 4em"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for channel in ("sms", "email"):
            choices = [("", "—"), *self.template_choices.get(channel, [])]
            self.fields[f"{channel}_template"].choices = choices
        if self.instance.pk:
            self.initial.update(config_initial(self.instance.kind, self.instance.config or {}))

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == StepKind.WAIT and cleaned.get("until_property") and cleaned.get("wait_amount"):
            self.add_error(
                "until_property", "Wait either a duration or until the event's time, not both."
            )
        if kind and not self.errors:
            self.instance.config = config_from_fields(kind, cleaned)
        return cleaned

    def clean_condition(self):
        condition = self.cleaned_data.get("condition")
        if condition in (None, "") or self.data.get(self.add_prefix("kind")) != StepKind.BRANCH:
            return condition
        errors = condition_errors(condition)
        if errors:
            raise ValidationError(errors)
        return condition


class StepFormSet(BaseInlineFormSet):
    """A live journey's steps are saved only if the graph still holds together: its
    enrollments move on to their next step with whatever is saved."""

    def clean(self):
        super().clean()
        if self.instance.status != JourneyStatus.ACTIVE or any(self.errors):
            return
        steps = [
            form.instance
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        problems = journey_problems(self.instance, steps) + self._busy_steps_deleted()
        if problems:
            raise ValidationError(
                [
                    "This journey is live: it must stay valid. Fix these, or pause it first.",
                    *problems,
                ]
            )

    def _busy_steps_deleted(self) -> list[str]:
        """Deleting the step an enrollment is on would end it with "no step to run"."""
        deleted = [
            form.instance.pk
            for form in self.forms
            if form.instance.pk and form.cleaned_data.get("DELETE")
        ]
        if not deleted:
            return []
        busy = (
            Enrollment.objects.filter(
                current_step_id__in=deleted, state__in=EnrollmentState.running()
            )
            .values_list("current_step__key")
            .annotate(n=Count("id"))
            .order_by("current_step__key")
        )
        return [
            f"Step {key}: {n} running enrollment(s) are on it; it cannot go." for key, n in busy
        ]
