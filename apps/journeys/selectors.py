"""Reads of the journeys app: where enrollments stand, and a contact's journeys on their
timeline."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from apps.contacts.models import Contact, EventType, PipelineStage
from apps.contacts.segments.stage_names import rules_name_lifecycle_stage, rules_name_pipeline_stage
from apps.contacts.selectors import TimelineEntry
from apps.journeys.models import (
    Activity,
    Enrollment,
    EnrollmentState,
    Journey,
    JourneyVersion,
    JourneyVersionStatus,
    Step,
    StepKind,
)
from apps.journeys.version_diff import version_changes
from apps.journeys.versions import REJECTED_BY


@dataclass(frozen=True)
class EnrollmentCounts:
    """How many enrollments a journey has in each state, and how many of the running ones
    (active or waiting) are on each step."""

    by_state: dict[str, int] = field(default_factory=dict)
    running_by_step: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def states(self) -> list[tuple[str, str, int]]:
        """(state, label, count) for every state, in the order of the choices."""
        return [
            (value, label, self.by_state.get(value, 0)) for value, label in EnrollmentState.choices
        ]


def journey_enrollment_counts(*, journey: Journey) -> EnrollmentCounts:
    """One aggregate query, whatever the number of enrollments or steps."""
    rows = (
        Enrollment.objects.filter(journey=journey)
        .values("state", "current_step__key")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_state: dict[str, int] = {}
    by_step: dict[str, int] = {}
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
        if row["state"] in EnrollmentState.running() and row["current_step__key"]:
            key = row["current_step__key"]
            by_step[key] = by_step.get(key, 0) + row["n"]
    return EnrollmentCounts(by_state=by_state, running_by_step=by_step)


def _journey_names(settings: Q) -> list[str]:
    """The journeys whose settings match, in any of their versions (a draft, the live one,
    one that enrollments still run on) or in their live copy."""
    names = set(Journey.objects.filter(settings).values_list("name", flat=True))
    names |= set(JourneyVersion.objects.filter(settings).values_list("journey__name", flat=True))
    return sorted(names)


def journeys_naming_lifecycle_stage(key: str) -> list[str]:
    """Each journey part that names this lifecycle stage: a goal, a trigger filter, a
    set-stage step or a branch's rules (a stage deleted under them would break them)."""
    named = [f"Journey “{name}” (its goal)" for name in _journey_names(Q(exit_lifecycle_stage=key))]
    triggers = Q(trigger_event_type=EventType.LIFECYCLE_STAGE_CHANGED, trigger_filters__to=key)
    named += [f"Journey “{name}” (its trigger)" for name in _journey_names(triggers)]
    steps = Step.objects.filter(kind=StepKind.SET_LIFECYCLE_STAGE, config__stage=key)
    named += [
        f"Journey “{journey}” (step {step} sets it)"
        for journey, step in steps.values_list("journey__name", "key")
    ]
    return named + _branches_naming(lambda rules: rules_name_lifecycle_stage(rules, key))


def journeys_naming_pipeline_stage(stage: PipelineStage) -> list[str]:
    """Each journey part that names this stage of its pipeline: a stage_changed trigger's
    "to" (in any pipeline, unless it names another), a goal or a branch's rules."""
    trigger = Q(trigger_event_type=EventType.STAGE_CHANGED, trigger_filters__to=stage.key)
    in_pipeline = ~Q(trigger_filters__has_key="pipeline_id") | Q(
        trigger_filters__pipeline_id=stage.pipeline_id
    )
    named = [f"Journey “{name}” (its trigger)" for name in _journey_names(trigger & in_pipeline)]
    named += [
        f"Journey “{name}” (its goal)" for name in _journey_names(Q(exit_pipeline_stage=stage))
    ]
    pipeline_key = stage.pipeline.key
    return named + _branches_naming(
        lambda rules: rules_name_pipeline_stage(
            rules, pipeline_key=pipeline_key, stage_key=stage.key
        )
    )


def _branches_naming(names_it) -> list[str]:
    """Branch steps are few per journey: their conditions are read and walked here."""
    branches = Step.objects.filter(kind=StepKind.BRANCH).select_related("journey")
    return [
        f"Journey “{step.journey.name}” (branch {step.key})"
        for step in branches.only("key", "config", "journey__name").order_by("journey__name")
        if names_it(((step.config or {}).get("condition") or {}).get("rules"))
    ]


def journeys_with_counts(queryset: QuerySet[Journey]) -> QuerySet[Journey]:
    """Journeys with `running` (active or waiting enrollments) and `entered` counts."""
    return queryset.select_related("owner").annotate(
        running=Count("enrollments", filter=Q(enrollments__state__in=EnrollmentState.running())),
        entered=Count("enrollments"),
    )


TIMELINE_KINDS = {
    Activity.Kind.ENTERED: "Entered {journey}",
    Activity.Kind.GOAL: "Goal reached in {journey}",
    Activity.Kind.EXIT: "Left {journey}",
    Activity.Kind.TASK: "Follow-up task from {journey}",
    Activity.Kind.ERROR: "Error in {journey}",
}


def contact_journey_timeline(contact: Contact, limit: int) -> list[TimelineEntry]:
    """The contact timeline's journey entries: entering, reaching the goal, leaving, tasks."""
    activities = (
        Activity.objects.filter(enrollment__contact=contact, kind__in=TIMELINE_KINDS)
        .select_related("enrollment__journey")
        .order_by("-at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=activity.at,
            kind="journey",
            title=TIMELINE_KINDS[activity.kind].format(journey=activity.enrollment.journey.name),
            detail=activity.reason,
            url=reverse("admin:journeys_enrollment_change", args=[activity.enrollment_id]),
        )
        for activity in activities
    ]


def journey_versions_awaiting_review(*, user) -> QuerySet[JourneyVersion]:
    """Submitted journey versions `user` may approve now, as versions.review_check would
    allow: an approver's, none they wrote or edited (unless CUE_ALLOW_SELF_APPROVAL)."""
    if not user.has_perm("journeys.activate_journey"):
        return JourneyVersion.objects.none()
    waiting = JourneyVersion.objects.filter(status=JourneyVersionStatus.SUBMITTED)
    if settings.CUE_ALLOW_SELF_APPROVAL:
        return waiting
    edited = JourneyVersion.history.filter(
        id=OuterRef("pk"), history_user_id=user.pk, status=JourneyVersionStatus.DRAFT
    ).exclude(history_change_reason__startswith="Rejected by ")
    steps_edited = Step.history.filter(version_id=OuterRef("pk"), history_user_id=user.pk)
    return waiting.exclude(author=user).exclude(Exists(edited)).exclude(Exists(steps_edited))


@dataclass(frozen=True)
class VersionRecord:
    """One version on the history page: what it changed from the one before it, in plain
    words, and each time a reviewer sent it back (who, when, why)."""

    version: JourneyVersion
    changes: list[str]
    rejections: list[dict]


def journey_version_history(*, journey: Journey) -> list[VersionRecord]:
    """Every version of the journey, newest first, with its step-by-step diff."""
    versions = list(
        journey.versions.select_related("author", "approver", "published_by").order_by("-number")
    )
    older = [*versions[1:], None]  # each one's previous: the newest numbered below it
    return [
        VersionRecord(
            version=version,
            changes=version_changes(previous, version),
            rejections=list(
                version.history.filter(history_change_reason__startswith=REJECTED_BY)
                .order_by("history_date")
                .values("history_user__username", "history_date", "rejection_reason")
            ),
        )
        for version, previous in zip(versions, older, strict=True)
    ]
