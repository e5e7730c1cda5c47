"""The journey builder: the journey's settings with its steps inline (plain fields per kind),
its problems shown next to the steps they name, a diagram of its graph, where its
enrollments stand, and the Activate / Pause / Simulate / Versions tools. The steps and
settings shown are the version in the works (else the live one); saving them writes to the
journey's draft, started from the live version when there is none: the live version runs
untouched."""

import re

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.core.admin import HistoryAdmin
from apps.journeys.admin.forms import JourneyForm, StepForm, StepFormSet, start_key
from apps.journeys.admin.live_checks import builder_checks_data
from apps.journeys.admin.tools import JourneyToolViews, tool_urls
from apps.journeys.admin.versions import JourneyVersionViews, version_urls, versions_url
from apps.journeys.diagram import journey_diagram_svg
from apps.journeys.graph import journey_problems
from apps.journeys.models import Journey, JourneyStatus, JourneyVersion, Step
from apps.journeys.selectors import journey_enrollment_counts, journeys_with_counts
from apps.journeys.steps import SPECS, step_template_id
from apps.journeys.steps.send import sender_picker_choices
from apps.journeys.steps.set_stage import stage_choices
from apps.journeys.versions import (
    journey_draft_start,
    version_settings_save,
    version_steps_replace,
)

_STEP_PROBLEM = re.compile(r"^Step (?P<key>[-\w]+): (?P<text>.*)$")
_LOOP_PROBLEM = re.compile(r"^Steps (?P<keys>.+) loop without a wait\.$")


def problems_by_step(problems: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem under the step it names (a loop under each of its steps); the rest are
    about the journey as a whole."""
    by_step: dict[str, list[str]] = {}
    general = []
    for problem in problems:
        if match := _STEP_PROBLEM.match(problem):
            by_step.setdefault(match["key"], []).append(match["text"])
        elif match := _LOOP_PROBLEM.match(problem):
            for key in dict.fromkeys(match["keys"].split(" → ")):
                by_step.setdefault(key, []).append(problem)
        else:
            general.append(problem)
    return by_step, general


def template_choices() -> dict[str, list[tuple[int, str]]]:
    """Every template, by channel, for the send steps' dropdowns: one query per page."""
    from apps.library.models import MessageTemplate

    choices: dict[str, list[tuple[int, str]]] = {"sms": [], "email": []}
    for pk, name, channel, live in MessageTemplate.objects.order_by("name").values_list(
        "pk", "name", "channel", "current_version_id"
    ):
        choices.setdefault(channel, []).append((pk, name if live else f"{name} (not approved)"))
    return choices


def step_form_class() -> type[StepForm]:
    """The builder's step form with this request's pickers: the templates, the senders and
    the lifecycle stages are read once for the page, however many steps it draws."""
    pickers = {
        "template_choices": template_choices(),
        "sender_choices": sender_picker_choices(),
        "stage_choices": stage_choices(),
    }
    return type("StepForm", (StepForm,), pickers)


def kind_fieldsets() -> dict[str, tuple[list[str], list]]:
    """{title: (kinds, fields)}: kinds sharing a fieldset title share its fields; the shared
    "Then go to" comes last, for every kind that has it."""
    fieldsets: dict[str, tuple[list[str], list]] = {}
    for spec in SPECS.values():
        if spec.fieldset:
            fieldsets.setdefault(spec.fieldset, ([], spec.layout))[0].append(spec.kind)
    follows = [spec.kind for spec in SPECS.values() if spec.follows_next]
    return {**fieldsets, "Next": (follows, ["next_step"])}


KIND_FIELDSETS = kind_fieldsets()


class StepInline(admin.StackedInline):
    model = Step
    form = StepForm
    formset = StepFormSet
    fk_name = "journey"
    extra = 1
    ordering = ["position", "id"]
    readonly_fields = ["problems"]
    fieldsets = [
        (None, {"fields": [("key", "kind", "position"), "problems"]}),
        *[
            (title, {"fields": fields, "classes": ["cue-kind", *[f"cue-kind-{k}" for k in kinds]]})
            for title, (kinds, fields) in KIND_FIELDSETS.items()
        ],
    ]
    # Set per request by JourneyAdmin: {step key: [problem, ...]}.
    step_problems: dict[str, list[str]] = {}

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, form=step_form_class(), **kwargs)
        formset.first_key = request.POST.get("start_step", "")  # a class of this request's
        return formset

    @admin.display(description="Problems")
    def problems(self, step: Step) -> str:
        found = self.step_problems.get(step.key, []) if step.pk else []
        if not found:
            return "—" if step.pk else ""
        return format_html(
            '<ul class="errorlist cue-step-problems">{}</ul>',
            format_html_join("", "<li>{}</li>", ((problem,) for problem in found)),
        )


@admin.register(Journey)
class JourneyAdmin(JourneyToolViews, JourneyVersionViews, HistoryAdmin):
    form = JourneyForm
    inlines = [StepInline]
    change_form_template = "admin/journeys/journey/change_form.html"
    change_list_template = "admin/journeys/journey/change_list.html"
    list_display = [
        "name", "status", "trigger", "running", "entered", "owner", "activated_at",
    ]  # fmt: skip
    list_filter = ["status", "trigger_kind"]
    search_fields = ["name", "trigger_event_type"]
    readonly_fields = ["status", "owner", "activated_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "goal_description", ("status", "owner", "activated_at")]}),
        ("Trigger", {"fields": ["trigger_kind", ("trigger_event_type", "trigger_event_type_new"),
                                "trigger_filters",
                                "entry_segment"]}),
        (
            "Goal",
            {
                "fields": [
                    ("exit_event_types", "exit_event_types_new"),
                    "exit_lifecycle_stage",
                    "exit_on_opportunity",
                    "exit_pipeline_stage",
                ]
            },
        ),
        ("Rules", {"fields": [("reentry", "reentry_days"), ("cap_messages", "cap_hours"),
                              "send_weekdays", "holdout_percent"]}),
        ("Steps", {"fields": ["start_step"]}),
    ]  # fmt: skip

    def get_queryset(self, request):
        return journeys_with_counts(super().get_queryset(request))

    def get_urls(self):
        return tool_urls(self) + version_urls(self) + super().get_urls()

    @admin.display(description="Trigger")
    def trigger(self, journey: Journey) -> str:
        if journey.trigger_kind == "segment_entry":
            return "joins a segment"
        return journey.trigger_event_type or "—"

    @admin.display(description="Running", ordering="running")
    def running(self, journey: Journey) -> int:
        return journey.running

    @admin.display(description="Entered", ordering="entered")
    def entered(self, journey: Journey) -> int:
        return journey.entered

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        by_step = self._problems(request, obj)[0] if obj is not None else {}
        for inline in inlines:
            inline.step_problems = by_step
        return inlines

    def _problems(self, request, journey: Journey) -> tuple[dict, list[str]]:
        """journey_problems, once per request, split by the step they name."""
        cache = request.__dict__.setdefault("_cue_journey_problems", {})
        if journey.pk not in cache:
            version = journey.version_shown()
            steps = list(version.steps.all()) if version is not None else []
            cache[journey.pk] = (steps, journey_problems(journey, steps, version=version))
        return problems_by_step(cache[journey.pk][1])

    def get_formset_kwargs(self, request, obj, inline, prefix):
        """The steps of the version shown (the one in the works, else the live one): the
        journey's other versions are not edited here."""
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj is not None and obj.pk is not None and isinstance(inline, StepInline):
            version = obj.version_shown()
            kwargs["queryset"] = Step.objects.filter(version=version).order_by("position", "id")
        return kwargs

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        else:  # the journey's copy of its settings changes only with a publish
            obj.settings_take(Journey.objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        if change and form.settings_changed:
            self._settings_to_draft(request, obj, form)

    def _settings_to_draft(self, request, journey: Journey, form) -> None:
        """Invariant 14: the settings go into the journey's draft, never into its live
        version; they go live when the draft is approved and published."""
        draft = journey_draft_start(actor=request.user, journey=journey)
        version_settings_save(actor=request.user, version=draft, values=form.settings_changed)
        if journey.live_version_id is not None:
            labels = [str(form[name].label) for name in form.settings_changed]
            self.message_user(request, _settings_saved_message(journey, draft, labels))

    def save_formset(self, request, form, formset, change):
        if isinstance(formset, StepFormSet):
            self._steps_to_draft(request, form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    def _steps_to_draft(self, request, journey: Journey, formset: StepFormSet) -> None:
        """Invariant 14: the steps go into the journey's draft, never into its live version."""
        # The admin's log reads these; the version's own history records each step.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not formset.steps_changed():
            return
        draft = journey_draft_start(actor=request.user, journey=journey)
        version_steps_replace(
            actor=request.user,
            version=draft,
            steps=formset.steps_given(),
            first_step=formset.first_key or None,
        )
        if journey.live_version_id is not None:
            self.message_user(
                request,
                f"Your changes are saved in draft v{draft.number}: v{journey.live_version.number}"
                f" keeps running as it is until an approver publishes v{draft.number}. Submit it "
                "for review on the Versions page.",
                messages.INFO,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        journey = self.get_object(request, unquote(object_id))
        extra = {**(extra_context or {}), "builder_checks": builder_checks_data()}
        if journey is not None:
            extra.update(self._builder_context(request, journey))
        return super().change_view(request, object_id, form_url, extra)

    def add_view(self, request, form_url="", extra_context=None):
        extra = {**(extra_context or {}), "builder_checks": builder_checks_data()}
        return super().add_view(request, form_url, extra)

    def _builder_context(self, request, journey: Journey) -> dict:
        general = self._problems(request, journey)[1]
        steps, problems = request._cue_journey_problems[journey.pk]
        counts = journey_enrollment_counts(journey=journey)
        shown = journey.version_shown()
        svg = journey_diagram_svg(
            steps,
            first_key=start_key(shown) or None,
            template_names=_template_names(steps),
            counts=counts.running_by_step,
            title=f"Diagram of {journey.name}",
        )
        return {
            "live": journey.status == JourneyStatus.ACTIVE,
            "live_version": journey.live_version,
            "version_shown": shown,
            "versions_url": versions_url(journey),
            "problems": problems,
            "general_problems": general,
            "diagram": mark_safe(svg),  # every text in it is escaped by diagram.py
            "counts": counts,
            "steps_with_counts": [(s.key, counts.running_by_step.get(s.key, 0)) for s in steps],
            **self.tool_context(request, journey),
        }


def _settings_saved_message(journey: Journey, draft: JourneyVersion, labels: list[str]) -> str:
    live = journey.live_version.number
    return (
        f"Your changes to {', '.join(labels)} are saved in draft v{draft.number}: v{live} "
        f"keeps running with its settings. They go live when an approver approves and "
        f"publishes v{draft.number}; submit it for review on the Versions page."
    )


def _template_names(steps: list[Step]) -> dict[int, str]:
    from apps.library.models import MessageTemplate

    ids = [pk for step in steps if (pk := step_template_id(step)) is not None]
    if not ids:
        return {}
    return dict(MessageTemplate.objects.filter(pk__in=ids).values_list("pk", "name"))
