"""The builder's forms: a journey's settings, and each step's settings as plain fields that
its kind's spec (apps/journeys/steps/) turns into Step.config and back. The steps and the
settings shown are the version in the works (else the live one), and both are saved into
the journey's draft version (JourneyAdmin): what is live never changes in place
(invariant 14)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property

from apps.contacts.models import PipelineStage, StageMeaning, validate_event_type
from apps.contacts.selectors import known_event_types
from apps.journeys.models import (
    SETTINGS_FIELDS,
    Journey,
    JourneyVersionStatus,
    Step,
    settings_attribute,
)
from apps.journeys.steps import SPECS, step_form_fields, step_form_initial
from apps.journeys.steps.form_fields import EventTypesField, JSONTextField
from apps.journeys.steps.set_stage import stage_choices

SETTINGS_UNDER_REVIEW = (
    "Version {number} is {status}: its settings cannot change now. An approver can reject "
    "it back to a draft, or publish it and you edit the next one."
)
_POSTED_STEP_KEY = re.compile(r"^steps-\d+-key$")

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


NEW_EVENT_TYPE = "__new__"


def start_key(version) -> str:
    """The key of the version's first step ("" when it has none)."""
    if version is None or version.start_step_id is None:
        return ""
    return (
        version.steps.filter(pk=version.start_step_id).values_list("key", flat=True).first() or ""
    )


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
    # Picked, as the trigger is: a mistyped goal would never end anyone's journey.
    exit_event_types = forms.MultipleChoiceField(
        required=False,
        label="Goal events",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Any one ends the journey. Ctrl- or ⌘-click to choose several.",
    )
    exit_event_types_new = EventTypesField(
        required=False,
        label="New goal events",
        help_text="Only for types Cue has never seen: comma-separated slugs, e.g. trial_converted.",
    )
    exit_lifecycle_stage = forms.ChoiceField(
        required=False,
        label="Goal stage",
        choices=stage_choices,
        help_text="The goal is met once the contact reaches this stage (or a later one).",
    )
    # Each stage says its pipeline ("Sales: Demo"): two pipelines may share a stage's name.
    exit_pipeline_stage = forms.ModelChoiceField(
        required=False,
        queryset=PipelineStage.objects.exclude(meaning=StageMeaning.LOST).select_related(
            "pipeline"
        ),
        label="Goal deal stage",
        help_text="The goal is met once an opportunity of the contact reaches this stage of "
        "its pipeline, or a later one that is not lost.",
    )
    send_weekdays = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        label="Sending days",
        help_text="In the contact's own time zone; none ticked means any day.",
    )

    # The first step of the version being edited (by key), not the journey's live one.
    start_step = forms.ChoiceField(
        required=False,
        label="First step",
        help_text="Of the version being edited. Empty: the step listed first below.",
    )

    class Meta:
        model = Journey
        fields = ["name", "goal_description", *SETTINGS_FIELDS]
        widgets = {"goal_description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The settings of the version being edited, not the live copy on the journey.
        self.settings_source = self._shown or self.instance
        self.initial.update(_settings_initial(self.settings_source))
        self.settings_changed: dict = {}  # {field: value} this post changes (set by clean)
        known = known_event_types()
        self.fields["trigger_event_type"].choices = self._event_type_choices(known)
        self.fields["exit_event_types"].choices = self._goal_choices(known)
        self.fields["start_step"].choices = self._first_step_choices()
        self.initial["start_step"] = start_key(self._shown)

    @cached_property
    def _shown(self):
        return self.instance.version_shown() if self.instance.pk else None

    def _first_step_choices(self) -> list[tuple[str, str]]:
        """The steps of the version being edited, and those being added in this post."""
        shown = self._shown
        keys = list(shown.steps.order_by("position", "id").values_list("key", flat=True)) if (
            shown is not None
        ) else []  # fmt: skip
        posted = (value for name, value in self.data.items() if _POSTED_STEP_KEY.match(name))
        keys += [key for key in posted if key and key not in keys]
        return [("", "— the step listed first —"), *((key, key) for key in keys)]

    def _event_type_choices(self, known: list[tuple[str, str]]) -> list[tuple[str, str]]:
        choices = [("", "—"), *_labelled(known, [self.settings_source.trigger_event_type])]
        return [*choices, (NEW_EVENT_TYPE, "New event type…")]

    def _goal_choices(self, known: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return _labelled(known, self.settings_source.exit_event_types or [])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("trigger_event_type") == NEW_EVENT_TYPE:
            new = cleaned.get("trigger_event_type_new")
            if new:
                cleaned["trigger_event_type"] = new
            elif "trigger_event_type_new" not in self.errors:
                self.add_error("trigger_event_type_new", "Name the new event type.")
        cleaned["exit_event_types"] = self._goals_chosen(cleaned)
        self.settings_changed = self._settings_changes(cleaned)
        self._under_review_refuse()
        return cleaned

    def _goals_chosen(self, cleaned: dict) -> list[str]:
        """The goal types picked and typed; those the journey had keep their order."""
        picked = [
            *(cleaned.get("exit_event_types") or []),
            *(cleaned.get("exit_event_types_new") or []),
        ]
        chosen = list(dict.fromkeys(picked))
        had = [kind for kind in self.settings_source.exit_event_types or [] if kind in chosen]
        return had + [kind for kind in chosen if kind not in had]

    def _settings_changes(self, cleaned: dict) -> dict:
        """The settings this post changes from the version being edited (none for a new
        journey: it is made with them)."""
        if self.instance.pk is None:
            return {}
        was = _settings_initial(self.settings_source)
        return {
            name: cleaned[name]
            for name in SETTINGS_FIELDS
            if name in cleaned and _comparable(cleaned[name]) != was[name]
        }

    def _under_review_refuse(self) -> None:
        """A version under review is what its approver reads: it does not change under them."""
        shown = self._shown
        if not self.settings_changed or shown is None:
            return
        if shown.status not in (JourneyVersionStatus.SUBMITTED, JourneyVersionStatus.APPROVED):
            return
        message = SETTINGS_UNDER_REVIEW.format(
            number=shown.number, status=shown.get_status_display().lower()
        )
        for name in self.settings_changed:
            self.add_error(name, message)

    def clean_trigger_filters(self):
        value = self.cleaned_data["trigger_filters"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Give an object, e.g. {"form": "demo"}.')
        return value


def _settings_initial(source) -> dict:
    """{field: value} of a journey's or a version's settings, as the form shows them."""
    return {name: getattr(source, settings_attribute(name)) for name in SETTINGS_FIELDS}


def _comparable(value):
    """A chosen segment by its id, as _settings_initial gives it."""
    return getattr(value, "pk", value)


def _labelled(known: list[tuple[str, str]], own: list[str]) -> list[tuple[str, str]]:
    """(type, "Label (type)") of the known types, and the journey's own types kept
    choosable (one it uses that nobody has sent lately)."""
    choices = [(kind, f"{label} ({kind})") for kind, label in known]
    seen = {kind for kind, _ in known}
    return choices + [(kind, kind) for kind in own if kind and kind not in seen]


class StepForm(forms.ModelForm):
    """A step's settings as fields; `clean` writes them into `config` for the step's kind.
    The fields are every kind's own (apps/journeys/steps/), added below. Template and
    sender choices are given per request (a few queries for all the forms)."""

    template_choices: dict = {"sms": [], "email": []}
    # The sender picker's choices, read once for the page (step_form_class); None: the field
    # reads them itself, two queries each time a form is drawn.
    sender_choices: list[tuple[str, str]] | None = None
    stage_choices: list[tuple[str, str]] | None = None  # the same, for the stage picker

    class Meta:
        model = Step
        fields = ["key", "kind", "position"]
        widgets = {"position": forms.NumberInput(attrs={"style": "width: 4em"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for channel in ("sms", "email"):
            choices = [("", "—"), *self.template_choices.get(channel, [])]
            self.fields[f"{channel}_template"].choices = choices
        if self.sender_choices is not None:
            self.fields["sms_sender"].choices = self.sender_choices
        if self.stage_choices is not None:
            self.fields["stage"].choices = self.stage_choices
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
    """The steps of the version shown. Saved into the journey's draft (started from the live
    version if there is none), so they are checked only for what a draft needs: unique keys,
    a first step among them, and a draft to write to (not a version under review)."""

    first_key = ""  # the first step posted with the journey's form (set by JourneyAdmin)

    def clean(self):
        super().clean()
        if any(self.errors) or not self.steps_changed():
            return
        under_review = self._version_under_review()
        if under_review is not None:
            raise ValidationError(
                f"Version {under_review.number} is "
                f"{under_review.get_status_display().lower()}: its steps cannot change now. "
                "An approver can reject it back to a draft, or publish it and you edit "
                "the next one."
            )
        keys = [step["key"] for step in self.steps_given()]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValidationError(f"Two steps have the key {', '.join(repeated)}: keep one.")
        if self.first_key and self.first_key not in keys:
            raise ValidationError(
                f"The first step {self.first_key!r} is not one of the steps kept below."
            )

    def _version_under_review(self):
        if self.instance.pk is None:
            return None
        review = [JourneyVersionStatus.SUBMITTED, JourneyVersionStatus.APPROVED]
        return self.instance.versions.filter(status__in=review).first()

    def steps_changed(self) -> bool:
        """Whether the post changes the steps or the first step of the version shown."""
        if any(form.has_changed() for form in self.forms):
            return True
        shown = self.instance.version_shown() if self.instance.pk else None
        return bool(self.first_key) and self.first_key != start_key(shown)

    def steps_given(self) -> list[dict]:
        """The steps the draft is to hold, as version_steps_replace takes them."""
        given = [
            {
                "key": form.cleaned_data["key"],
                "kind": form.cleaned_data["kind"],
                "config": form.instance.config,
                "position": form.cleaned_data.get("position") or 0,
            }
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        return sorted(given, key=lambda step: step["position"])  # the first listed starts
