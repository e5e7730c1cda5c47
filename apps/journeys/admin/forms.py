"""The builder's forms: a journey's settings, and each step's settings as plain fields that
its kind's spec (apps/journeys/steps/) turns into Step.config and back."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from apps.contacts.models import validate_event_type
from apps.journeys.graph import journey_problems
from apps.journeys.models import (
    Enrollment,
    EnrollmentState,
    Journey,
    JourneyStatus,
    Step,
)
from apps.journeys.simulator.properties import known_event_types
from apps.journeys.steps import SPECS, step_form_fields, step_form_initial
from apps.journeys.steps.form_fields import EventTypesField, JSONTextField
from apps.journeys.steps.set_stage import stage_choices

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


NEW_EVENT_TYPE = "__new__"


class JourneyForm(forms.ModelForm):
    # A picker, not free text: a typo would start a journey nobody ever enters.
    trigger_event_type = forms.ChoiceField(
        required=False,
        label="Trigger event",
        help_text="An event type Cue knows or has seen lately. For one it has never seen, "
        "choose “New event type…” and name it below.",
    )
    trigger_event_type_new = forms.CharField(
        required=False,
        max_length=64,
        validators=[validate_event_type],
        label="New event type",
        help_text="Only with “New event type…”: a lowercase slug, e.g. trial_started.",
    )
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
        choices=stage_choices,
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
        self.fields["trigger_event_type"].choices = self._event_type_choices()
        if "first_step" in self.fields:
            steps = Step.objects.filter(journey_id=self.instance.pk).order_by("position", "id")
            self.fields["first_step"].queryset = steps
            self.fields["first_step"].help_text = (
                "Empty: the step listed first below." if self.instance.pk else
                "Save the journey with its steps first; the step listed first starts it."
            )  # fmt: skip

    def _event_type_choices(self) -> list[tuple[str, str]]:
        choices = [("", "—"), *((kind, f"{label} ({kind})") for kind, label in known_event_types())]
        current = self.instance.trigger_event_type
        if current and current not in dict(choices):
            choices.append((current, current))  # kept: a journey's own type stays choosable
        return [*choices, (NEW_EVENT_TYPE, "New event type…")]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("trigger_event_type") == NEW_EVENT_TYPE:
            new = cleaned.get("trigger_event_type_new")
            if new:
                cleaned["trigger_event_type"] = new
            elif "trigger_event_type_new" not in self.errors:
                self.add_error("trigger_event_type_new", "Name the new event type.")
        return cleaned

    def clean_trigger_filters(self):
        value = self.cleaned_data["trigger_filters"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Give an object, e.g. {"form": "demo"}.')
        return value


class StepForm(forms.ModelForm):
    """A step's settings as fields; `clean` writes them into `config` for the step's kind.
    The fields are every kind's own (apps/journeys/steps/), added below. Template choices
    are given per request (one query for all the forms)."""

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
            self.initial.update(step_form_initial(self.instance.kind, self.instance.config or {}))

    def clean(self):
        cleaned = super().clean()
        spec = SPECS.get(cleaned.get("kind"))
        if spec is None:
            return cleaned
        for name, errors in spec.form_errors(cleaned).items():
            self.add_error(name, errors)
        if not self.errors:
            self.instance.config = spec.config_from_form(cleaned).stored()
        return cleaned


# The kinds' fields, declared on the form class (the admin's fieldsets name them).
StepForm = type(StepForm.__name__, (StepForm,), {"__module__": __name__, **step_form_fields()})


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
