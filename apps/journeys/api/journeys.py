"""Journeys through the API, with their versions: read them, start a draft from the live
version, replace a draft's steps or change its settings (trigger, entry, goal, rules: a
published journey's go live with the draft), submit, approve or reject, publish (optionally
moving running enrollments), pause and resume. The same services as the admin, so the same rules:
a marketer's token cannot approve or publish and nobody approves a version they wrote or
edited (403 with the reason); a broken rule in the content is a 400 naming the step and
field."""

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.contacts.models import PipelineStage, Segment, StageMeaning, validate_event_type
from apps.contacts.stages import lifecycle_choices
from apps.core.api.parsers import StrictJSONParser
from apps.journeys.graph import journey_problems
from apps.journeys.models import (
    SETTINGS_FIELDS,
    Journey,
    JourneyVersion,
    ReentryPolicy,
    Step,
    StepKind,
    TriggerKind,
)
from apps.journeys.services import JourneyError, journey_activate, journey_pause
from apps.journeys.steps import SPECS
from apps.journeys.steps.base import _stored_keys
from apps.journeys.version_diff import version_changes, version_previous
from apps.journeys.versions import (
    SELF_REVIEW,
    enrollment_move_plan,
    journey_draft_start,
    version_approve,
    version_publish,
    version_reject,
    version_settings_save,
    version_steps_replace,
    version_submit,
)

REFUSALS = ("permission_denied", SELF_REVIEW)
MAX_STEPS = 200
FIELD_ERRORS = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description='Field errors, each naming its field; a step\'s as "steps.<key>.<field>".',
)
_STEP_PROBLEM = re.compile(r"^Step (?P<key>[-\w]+): (?P<text>.*)$")


# --- Shapes ------------------------------------------------------------------------------


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = Step
        fields = ["key", "kind", "config", "position"]


class VersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)
    published_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    first_step = serializers.SlugRelatedField(slug_field="key", read_only=True)
    steps = StepSerializer(many=True, read_only=True)
    changes = serializers.SerializerMethodField(
        help_text="What it changes from the version before it, step by step, in plain words."
    )

    class Meta:
        model = JourneyVersion
        fields = [
            "id", "journey", "number", "status", "change_summary", "changes", "rejection_reason",
            "author", "created_at", "submitted_at", "approver", "approved_at", "published_by",
            "published_at", "retired_at", "enrollments_moved", *SETTINGS_FIELDS, "first_step",
            "steps",
        ]  # fmt: skip

    def get_changes(self, version: JourneyVersion) -> list[str]:
        return version_changes(version_previous(version), version)


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = JourneyVersion
        fields = ["id", "number", "status"]


class JourneySerializer(serializers.ModelSerializer):
    live_version = VersionSummarySerializer(read_only=True)

    class Meta:
        model = Journey
        fields = [
            "id", "name", "status", "trigger_kind", "trigger_event_type", "trigger_filters",
            "entry_segment", "exit_event_types", "exit_lifecycle_stage", "exit_on_opportunity",
            "exit_pipeline_stage", "live_version", "activated_at",
        ]  # fmt: skip


class JourneyDetailSerializer(JourneySerializer):
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(JourneySerializer.Meta):
        fields = [*JourneySerializer.Meta.fields, "versions"]


class SettingsInSerializer(serializers.Serializer):
    """A draft's settings to change: only those given change. Unknown names are refused."""

    trigger_kind = serializers.ChoiceField(choices=TriggerKind.choices)
    trigger_event_type = serializers.CharField(
        max_length=64, allow_blank=True, validators=[validate_event_type]
    )
    trigger_filters = serializers.DictField()
    entry_segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.all(), allow_null=True
    )
    exit_event_types = serializers.ListField(
        child=serializers.CharField(max_length=64, validators=[validate_event_type]),
        max_length=50,
    )
    exit_lifecycle_stage = serializers.CharField(max_length=64, allow_blank=True)
    exit_on_opportunity = serializers.BooleanField()
    exit_pipeline_stage = serializers.PrimaryKeyRelatedField(
        queryset=PipelineStage.objects.exclude(meaning=StageMeaning.LOST),
        allow_null=True,
        help_text="A stage of a pipeline (not a lost one), by id: the goal is met once an "
        "opportunity of the contact reaches it or a later stage that is not lost.",
    )
    reentry = serializers.ChoiceField(choices=ReentryPolicy.choices)
    reentry_days = serializers.IntegerField(min_value=0, max_value=3650, allow_null=True)
    cap_messages = serializers.IntegerField(min_value=1, max_value=1000, allow_null=True)
    cap_hours = serializers.IntegerField(min_value=1, max_value=24 * 366, allow_null=True)
    send_weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), max_length=7
    )
    holdout_percent = serializers.IntegerField(min_value=0, max_value=50)

    def validate(self, data):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise ValidationError({name: ["Not a journey setting."] for name in unknown})
        return data

    def validate_exit_lifecycle_stage(self, value: str) -> str:
        if value and value not in {key for key, _ in lifecycle_choices()}:
            raise ValidationError(f"{value!r} is not one of the lifecycle stages.")
        return value

    def validate_send_weekdays(self, value: list[int]) -> list[int]:
        return sorted(set(value))


class StepInSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=64)
    kind = serializers.ChoiceField(choices=StepKind.choices)
    config = serializers.DictField(required=False, default=dict)
    position = serializers.IntegerField(required=False, min_value=0, max_value=100_000)

    def validate(self, data):
        spec = SPECS[data["kind"]]
        known = {key for _, key in _stored_keys(spec.Config)}
        unknown = sorted(set(data["config"]) - known)
        if unknown:
            raise ValidationError(
                {"config": [f"Not a setting of a {data['kind']} step: {', '.join(unknown)}."]}
            )
        errors = spec.config_errors(spec.Config.read(data["config"]))
        if errors:
            raise ValidationError({f"config.{where}": found for where, found in errors.items()})
        return data


class StepsInSerializer(serializers.Serializer):
    steps = serializers.ListField(child=serializers.JSONField(), max_length=MAX_STEPS)
    first_step = serializers.SlugField(max_length=64, required=False)


class PublishSerializer(serializers.Serializer):
    move_enrollments = serializers.BooleanField(
        default=False,
        help_text="Move running enrollments to the same-key, same-kind steps of this version "
        "(refused whole when a step they wait on has none).",
    )


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class SubmitSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class MovePlanSerializer(serializers.Serializer):
    from_version = serializers.IntegerField(allow_null=True)
    waiting = serializers.DictField(child=serializers.IntegerField())
    mapping = serializers.DictField(child=serializers.CharField())
    unmapped = serializers.ListField(child=serializers.CharField())


# --- Helpers -----------------------------------------------------------------------------


def _refused_as_403(call, **kwargs):
    """A workflow refusal (wrong role, one's own version) is a 403 with the reason; any
    other broken rule stays a 400 naming its field (core.api's handler)."""
    try:
        return call(**kwargs)
    except JourneyError as error:
        if error.code in REFUSALS:
            raise PermissionDenied(error.message, code=error.code) from error
        raise


def steps_read(data) -> tuple[list[dict], str | None]:
    """The steps given, or a 400 whose fields name each step by its key (or its place)."""
    given = StepsInSerializer(data=data)
    given.is_valid(raise_exception=True)
    steps, errors, seen = [], {}, set()
    for index, raw in enumerate(given.validated_data["steps"]):
        name = raw.get("key") if isinstance(raw, dict) and isinstance(raw.get("key"), str) else ""
        where = f"steps.{name or f'#{index + 1}'}"
        one = StepInSerializer(data=raw if isinstance(raw, dict) else {})
        if not isinstance(raw, dict):
            errors[where] = ["Give a step as an object with key, kind and config."]
        elif name and name in seen:
            errors[f"{where}.key"] = ["Another step has this key."]
        elif not one.is_valid():
            for field, messages in one.errors.items():
                errors[f"{where}.{field}"] = [str(message) for message in messages]
        else:
            steps.append(one.validated_data)
        seen.add(name)
    first = given.validated_data.get("first_step")
    if first and first not in seen and not errors:
        errors["first_step"] = [f"{first!r} is not one of the steps given."]
    if errors:
        raise ValidationError(errors)
    return steps, first


def problems_by_field(problems: list[str]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for problem in problems:
        match = _STEP_PROBLEM.match(problem)
        field = f"steps.{match['key']}" if match else "steps"
        fields.setdefault(field, []).append(match["text"] if match else problem)
    return fields


class CanViewJourneys(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("journeys.view_journey")


# --- Views -------------------------------------------------------------------------------


class JourneysView(generics.ListAPIView):
    """Every journey with its live version."""

    queryset = Journey.objects.select_related("live_version").order_by("name")
    serializer_class = JourneySerializer
    permission_classes = [IsAuthenticated, CanViewJourneys]
    pagination_class = None  # a team runs tens of journeys, not millions


class JourneyView(generics.RetrieveAPIView):
    """One journey with every version (newest first), its steps, author and approver."""

    queryset = Journey.objects.select_related("live_version").prefetch_related(
        "versions__steps", "versions__author", "versions__approver", "versions__published_by"
    )
    serializer_class = JourneyDetailSerializer
    permission_classes = [IsAuthenticated, CanViewJourneys]


class JourneyActionView(APIView):
    permission_classes = [IsAuthenticated, CanViewJourneys]
    parser_classes = [StrictJSONParser]

    def journey(self, pk: int) -> Journey:
        return generics.get_object_or_404(Journey, pk=pk)

    def version(self, pk: int) -> JourneyVersion:
        return generics.get_object_or_404(JourneyVersion.objects.select_related("journey"), pk=pk)


class JourneyDraftView(JourneyActionView):
    """The journey's version in the works, or a new draft copied from the live version (the
    live version never changes)."""

    @extend_schema(request=None, responses={200: VersionSerializer})
    def post(self, request, pk: int):
        draft = _refused_as_403(journey_draft_start, actor=request.user, journey=self.journey(pk))
        return Response(VersionSerializer(draft).data)


class JourneyPauseView(JourneyActionView):
    """Stops sending at once (Approver, Admin): no review, since it only stops."""

    @extend_schema(request=None, responses={200: JourneySerializer})
    def post(self, request, pk: int):
        journey = _refused_as_403(_pause, actor=request.user, journey=self.journey(pk))
        return Response(JourneySerializer(journey).data)


class JourneyResumeView(JourneyActionView):
    """Resumes a paused journey on its live version (Approver, Admin)."""

    @extend_schema(request=None, responses={200: JourneySerializer})
    def post(self, request, pk: int):
        journey = self.journey(pk)
        if journey.live_version_id is None:
            raise JourneyError("Publish a version first: nothing of this journey is live.")
        journey = _refused_as_403(_activate, actor=request.user, journey=journey)
        return Response(JourneySerializer(journey).data)


def _pause(*, actor, journey):
    if not actor.has_perm("journeys.activate_journey"):
        raise JourneyError("Only an approver may pause a journey.", code="permission_denied")
    return journey_pause(journey=journey, actor=actor)


def _activate(*, actor, journey):
    if not actor.has_perm("journeys.activate_journey"):
        raise JourneyError("Only an approver may resume a journey.", code="permission_denied")
    return journey_activate(journey=journey, actor=actor)


class VersionView(JourneyActionView):
    """One version with its steps."""

    @extend_schema(responses={200: VersionSerializer})
    def get(self, request, pk: int):
        return Response(VersionSerializer(self.version(pk)).data)


class VersionStepsView(JourneyActionView):
    """Replaces a draft's steps (and its first step): only a draft's steps change."""

    @extend_schema(request=StepsInSerializer, responses={200: VersionSerializer, 400: FIELD_ERRORS})
    def put(self, request, pk: int):
        version = self.version(pk)
        steps, first = steps_read(request.data)
        version = _refused_as_403(
            version_steps_replace, actor=request.user, version=version, steps=steps,
            first_step=first,
        )  # fmt: skip
        return Response(VersionSerializer(version).data)


class VersionSettingsView(JourneyActionView):
    """Changes a draft's settings (only those given): a published journey's trigger, entry,
    goal and rules change only in a draft, and go live when it is approved and published."""

    @extend_schema(
        request=SettingsInSerializer, responses={200: VersionSerializer, 400: FIELD_ERRORS}
    )
    def patch(self, request, pk: int):
        version = self.version(pk)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Give the settings as an object."]})
        given = SettingsInSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        _refused_as_403(
            version_settings_save, actor=request.user, version=version,
            values=given.validated_data,
        )  # fmt: skip
        return Response(VersionSerializer(self.version(pk)).data)


class VersionSubmitView(JourneyActionView):
    """Sends a draft for review once nothing keeps it from going live (each problem under
    the step it concerns)."""

    @extend_schema(request=SubmitSerializer, responses={200: VersionSerializer, 400: FIELD_ERRORS})
    def post(self, request, pk: int):
        version = self.version(pk)
        given = SubmitSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        if request.user.has_perm("journeys.change_journeyversion") and version.editable:
            problems = journey_problems(version.journey, version=version)
            if problems:
                raise ValidationError(problems_by_field(problems))
        version = _refused_as_403(
            version_submit, actor=request.user, version=version, **given.validated_data
        )
        return Response(VersionSerializer(version).data)


class VersionApproveView(JourneyActionView):
    """Approves a submitted version: an approver, never whoever wrote or edited it."""

    @extend_schema(request=DecisionSerializer, responses={200: VersionSerializer})
    def post(self, request, pk: int):
        given = DecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = _refused_as_403(
            version_approve, actor=request.user, version=self.version(pk), **given.validated_data
        )
        return Response(VersionSerializer(version).data)


class VersionRejectView(JourneyActionView):
    """Sends a submitted version back to its author as a draft, with the reason (comment,
    required)."""

    @extend_schema(
        request=DecisionSerializer, responses={200: VersionSerializer, 400: FIELD_ERRORS}
    )
    def post(self, request, pk: int):
        given = DecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = _refused_as_403(
            version_reject, actor=request.user, version=self.version(pk),
            reason=given.validated_data["comment"],
        )  # fmt: skip
        return Response(VersionSerializer(version).data)


class VersionPublishView(JourneyActionView):
    """Makes an approved version live (Approver, Admin). GET shows where running
    enrollments would go if moved; POST publishes, moving them only when asked."""

    @extend_schema(responses={200: MovePlanSerializer})
    def get(self, request, pk: int):
        version = self.version(pk)
        live = version.journey.live_version
        if live is None or live.pk == version.pk:
            return Response({"from_version": None, "waiting": {}, "mapping": {}, "unmapped": []})
        plan = enrollment_move_plan(live, version)
        return Response(
            {
                "from_version": live.number,
                "waiting": plan.occupied,
                "mapping": plan.mapping,
                "unmapped": plan.unmapped,
            }
        )

    @extend_schema(request=PublishSerializer, responses={200: VersionSerializer, 400: FIELD_ERRORS})
    def post(self, request, pk: int):
        given = PublishSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = _refused_as_403(
            version_publish, actor=request.user, version=self.version(pk), **given.validated_data
        )
        return Response(VersionSerializer(version).data)
