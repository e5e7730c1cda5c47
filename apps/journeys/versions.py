"""Writes of journey versions: a draft made from the live version, its steps edited (a draft
only), submitted, approved by someone other than its author, published (the live version
retired, its running enrollments kept on it unless the publisher moves them along a mapping
recorded on the new version), or rejected back to a draft.

Invariant 14: what is live never changes in place."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from apps.journeys.graph import journey_problems
from apps.journeys.models import (
    SETTINGS_FIELDS,
    Enrollment,
    EnrollmentState,
    Journey,
    JourneyStatus,
    JourneyVersion,
    JourneyVersionStatus,
    Step,
    settings_attribute,
)
from apps.journeys.services import JourneyError, journey_settings_follow
from apps.journeys.steps import SPECS

EDIT_PERMISSION = "journeys.change_journeyversion"
REVIEW_PERMISSION = "journeys.activate_journey"  # the Approver's (and Admin's)
SELF_REVIEW = "self_approval"  # the error code of a review refused to the version's author


def _permission_require(actor, permission: str, message: str) -> None:
    if not actor.has_perm(permission):
        raise JourneyError(message, code="permission_denied")


def _audited_save(instance, *, actor, reason: str, **kwargs) -> None:
    instance._history_user = actor
    instance._change_reason = reason[:100]
    instance.save(**kwargs)


def _version_lock(version: JourneyVersion) -> JourneyVersion:
    return (
        JourneyVersion.objects.select_for_update(of=("self",))
        .select_related("journey")
        .get(pk=version.pk)
    )


@transaction.atomic
def journey_draft_start(*, actor, journey: Journey, summary: str = "") -> JourneyVersion:
    """The journey's version in the works, or a new draft copied from the live version
    (same steps, keys, kinds, step settings, first step and journey settings). The live
    version is not touched."""
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    open_version = journey.versions.filter(status__in=JourneyVersionStatus.open()).first()
    if open_version is not None:
        return open_version
    source = journey.live_version or journey.versions.order_by("-number").first()
    number = (journey.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    draft = JourneyVersion(journey=journey, number=number, author=actor, change_summary=summary)
    draft.settings_take(source or journey)  # a journey's first version: what it was made with
    _audited_save(draft, actor=actor, reason=f"Draft v{number} started")
    if source is not None:
        _steps_copy(source, draft, actor)
    return draft


def _steps_copy(source: JourneyVersion, draft: JourneyVersion, actor) -> None:
    start_id = source.start_step_id
    for step in source.steps.order_by("position", "id"):
        copy = Step(
            journey_id=draft.journey_id,
            version=draft,
            key=step.key,
            kind=step.kind,
            config=step.config,
            position=step.position,
        )
        _audited_save(copy, actor=actor, reason=f"Copied from v{source.number}")
        if step.pk == start_id:
            draft.first_step = copy
    _audited_save(draft, actor=actor, reason=f"Copied from v{source.number}")


def _draft_require(version: JourneyVersion) -> None:
    if version.status != JourneyVersionStatus.DRAFT:
        raise JourneyError(
            f"Version {version.number} is {version.get_status_display().lower()}: only a "
            "draft's steps and settings can be changed. Start a new draft to change the "
            "journey.",
            field="status",
        )


@transaction.atomic
def version_settings_save(*, actor, version: JourneyVersion, values: dict) -> list[str]:
    """Writes the given journey settings (trigger, entry, goal, rules) into the draft and
    returns the fields that changed. They go live when the draft is published; a journey
    that never ran shows its draft's at once (journey_settings_follow)."""
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    unknown = sorted(set(values) - set(SETTINGS_FIELDS))
    if unknown:
        raise JourneyError(f"Not a journey setting: {', '.join(unknown)}.", field=unknown[0])
    version = _version_lock(version)
    _draft_require(version)
    before = version.settings()
    for name, value in values.items():
        setattr(version, name, value)
    _settings_validate(version)
    changed = [
        n
        for n in SETTINGS_FIELDS
        if getattr(version, settings_attribute(n)) != before[settings_attribute(n)]
    ]
    if changed:
        _audited_save(
            version, actor=actor, reason=f"Settings of v{version.number}: {', '.join(changed)}"
        )
        _unpublished_settings_follow(version, actor)
    return changed


def _settings_validate(version: JourneyVersion) -> None:
    """The fields' own types and limits (the model's), and the JSON fields' shapes."""
    problem = _settings_shape_problem(version)
    if problem:
        raise JourneyError(problem[1], field=problem[0])
    others = [f.name for f in JourneyVersion._meta.fields if f.name not in SETTINGS_FIELDS]
    try:
        version.full_clean(exclude=others, validate_unique=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise JourneyError(" ".join(messages), field=field) from error


def _settings_shape_problem(version: JourneyVersion) -> tuple[str, str] | None:
    if type(version.holdout_percent) is int and version.holdout_percent > 50:
        return "holdout_percent", "Hold out at most half of the entrants."
    if not isinstance(version.trigger_filters, dict):
        return "trigger_filters", 'Give an object, e.g. {"form": "demo"}.'
    types = version.exit_event_types
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        return "exit_event_types", "Give a list of event types."
    days = version.send_weekdays
    if not isinstance(days, list) or not all(type(d) is int and 0 <= d <= 6 for d in days):
        return "send_weekdays", "Give weekdays as numbers from 0 (Monday) to 6 (Sunday)."
    return None


def _unpublished_settings_follow(version: JourneyVersion, actor) -> None:
    """A journey that never ran shows its draft's settings (its list, simulator and first
    activation read the journey's); a published journey's change only with a publish."""
    journey = version.journey
    if journey.live_version_id is None:
        fields = journey_settings_follow(journey, version)
        _audited_save(
            journey, actor=actor, reason=f"Settings as in v{version.number}", update_fields=fields
        )


@transaction.atomic
def version_step_save(
    *,
    actor,
    version: JourneyVersion,
    key: str,
    kind: str,
    config: dict,
    position: int | None = None,
) -> Step:
    """Adds the step (last, unless a position is given), or replaces the kind and settings
    (and the position, if given) of the draft's step with this key."""
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    if kind not in SPECS:
        raise JourneyError(f"{kind!r} is not a kind of step.", field="kind")
    version = _version_lock(version)
    _draft_require(version)
    step = version.steps.filter(key=key).first() or Step(
        journey_id=version.journey_id, version=version, key=key
    )
    if position is None:
        position = step.position if step.pk else _position_next(version)
    step.kind, step.position = kind, position
    step.config = _config_checked(SPECS[kind], key, config)
    _audited_save(step, actor=actor, reason=f"Step {key} saved in v{version.number}")
    if version.start_step_id is None:
        version.first_step = step
        _audited_save(version, actor=actor, reason=f"Starts at {key}")
    return step


def _config_checked(spec, key: str, raw: dict) -> dict:
    """The config as stored, once the kind's rules hold (the API and the builder ask the
    same rules first, to name every field; this refuses what reaches here anyway)."""
    config = spec.Config.read(raw)
    errors = spec.config_errors(config)
    if errors:
        where, messages = next(iter(errors.items()))
        raise JourneyError(messages[0], field=f"steps.{key}.config.{where}")
    return config.stored()


def _position_next(version: JourneyVersion) -> int:
    top = version.steps.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


@transaction.atomic
def version_steps_replace(
    *, actor, version: JourneyVersion, steps: list[dict], first_step: str | None = None
) -> JourneyVersion:
    """The draft's steps become exactly `steps` ({key, kind, config, position}): steps with
    other keys go, the first step is `first_step` (default: the first given)."""
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    version = _version_lock(version)
    _draft_require(version)
    keys = [step["key"] for step in steps]
    for step in version.steps.exclude(key__in=keys):
        step._history_user, step._change_reason = actor, f"Step {step.key} deleted"
        step.delete()
    for position, given in enumerate(steps):
        version_step_save(
            actor=actor,
            version=version,
            key=given["key"],
            kind=given["kind"],
            config=given.get("config") or {},
            position=given.get("position", position),
        )
    start = first_step or (keys[0] if keys else None)
    version.first_step = version.steps.filter(key=start).first() if start else None
    _audited_save(version, actor=actor, reason=f"Steps of v{version.number} replaced")
    _unpublished_start_follow(version, actor)
    return version


def _unpublished_start_follow(version: JourneyVersion, actor) -> None:
    """A journey that never ran starts where its version does (the simulator and its first
    activation read the journey's); a published journey's start moves only with a publish."""
    journey = version.journey
    if journey.live_version_id is None and journey.first_step_id != version.first_step_id:
        journey.first_step_id = version.first_step_id
        _audited_save(
            journey, actor=actor, reason=f"Starts where v{version.number} does",
            update_fields=["first_step"],
        )  # fmt: skip


@transaction.atomic
def version_step_delete(*, actor, version: JourneyVersion, key: str) -> None:
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    version = _version_lock(version)
    _draft_require(version)
    step = version.steps.filter(key=key).first()
    if step is None:
        raise JourneyError(f"Version {version.number} has no step {key!r}.", field="key")
    step._history_user = actor
    step._change_reason = f"Step {key} deleted from v{version.number}"
    step.delete()


@transaction.atomic
def version_first_step_set(*, actor, version: JourneyVersion, key: str) -> JourneyVersion:
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    version = _version_lock(version)
    _draft_require(version)
    step = version.steps.filter(key=key).first()
    if step is None:
        raise JourneyError(f"Version {version.number} has no step {key!r}.", field="first_step")
    version.first_step = step
    _audited_save(version, actor=actor, reason=f"Starts at {key}")
    return version


@transaction.atomic
def version_submit(*, actor, version: JourneyVersion, summary: str = "") -> JourneyVersion:
    """Sends the draft for review once nothing keeps it from going live."""
    _permission_require(actor, EDIT_PERMISSION, "You may not edit journeys.")
    version = _version_lock(version)
    _draft_require(version)
    problems = journey_problems(version.journey, version=version)
    if problems:
        raise JourneyError(" ".join(problems), field="steps")
    version.status, version.submitted_at = JourneyVersionStatus.SUBMITTED, timezone.now()
    version.change_summary = summary.strip() or version.change_summary
    version.rejection_reason = ""
    _audited_save(version, actor=actor, reason=f"Submitted by {actor.username}")
    return version


def version_written_by(version: JourneyVersion, user) -> bool:
    """True for the author and for anyone who changed the draft or its steps (the history
    says who): none of them may approve it."""
    if version.author_id == user.pk:
        return True
    if written_history(version.history, user).exists():
        return True
    return Step.history.filter(version_id=version.pk, history_user_id=user.pk).exists()


REJECTED_BY = "Rejected by "  # a rejection saves the version as a draft: no authorship


def written_history(history, user):
    """The version's history rows that make `user` one of its writers."""
    return history.filter(history_user_id=user.pk, status=JourneyVersionStatus.DRAFT).exclude(
        history_change_reason__startswith=REJECTED_BY
    )


def review_check(*, actor, version: JourneyVersion, verb: str = "approve") -> None:
    """JourneyError saying why `actor` may not review `version` now, or nothing."""
    _permission_require(actor, REVIEW_PERMISSION, "Only an approver may review journey versions.")
    if version.status != JourneyVersionStatus.SUBMITTED:
        raise JourneyError(
            f"Version {version.number} is {version.get_status_display().lower()}, "
            "not waiting for review.",
            field="status",
        )
    if version_written_by(version, actor) and not settings.CUE_ALLOW_SELF_APPROVAL:
        raise JourneyError(
            f"You wrote this version, so someone else must {verb} it.", code=SELF_REVIEW
        )


@transaction.atomic
def version_approve(*, actor, version: JourneyVersion, comment: str = "") -> JourneyVersion:
    version = _version_lock(version)
    review_check(actor=actor, version=version)
    version.status, version.approver = JourneyVersionStatus.APPROVED, actor
    version.approved_at = timezone.now()
    _audited_save(version, actor=actor, reason=f"Approved by {actor.username}. {comment}".strip())
    return version


@transaction.atomic
def version_reject(*, actor, version: JourneyVersion, reason: str) -> JourneyVersion:
    """Back to a draft its author can fix, with the reason they will read."""
    version = _version_lock(version)
    review_check(actor=actor, version=version, verb="review")
    if not reason.strip():
        raise JourneyError(
            "Say why you reject this version, so its author can fix it.", field="reason"
        )
    version.status, version.rejection_reason = JourneyVersionStatus.DRAFT, reason.strip()
    version.submitted_at = None
    _audited_save(version, actor=actor, reason=f"{REJECTED_BY}{actor.username}")
    return version


def version_publish(
    *, actor, version: JourneyVersion, move_enrollments: bool = False
) -> JourneyVersion:
    """Makes the approved version live: new entrants start on it and the live one retires.
    Running enrollments stay on the version they entered, unless `move_enrollments`, which
    moves every one of them along the step mapping (refused whole when a step they wait on
    has no counterpart). Two publishers at once: one wins, the other is told."""
    _permission_require(actor, REVIEW_PERMISSION, "Only an approver may publish a journey.")
    try:
        with transaction.atomic():
            return _publish(actor, version, move_enrollments)
    except IntegrityError as error:  # another version went live at the same moment
        raise JourneyError(
            "Another version of this journey was published at the same moment; reload.",
            field="status",
        ) from error


def _publish(actor, version: JourneyVersion, move_enrollments: bool) -> JourneyVersion:
    journey = Journey.objects.select_for_update().get(pk=version.journey_id)
    version = _version_lock(version)
    if version.status != JourneyVersionStatus.APPROVED:
        raise JourneyError(
            f"Version {version.number} is {version.get_status_display().lower()}; only an "
            "approved version can be published.",
            field="status",
        )
    previous, now = journey.live_version, timezone.now()
    plan = enrollment_move_plan(previous, version) if move_enrollments and previous else None
    if plan is not None and plan.unmapped:
        raise JourneyError(plan.refusal(), field="move_enrollments")
    if previous is not None:
        # Pinned: a version made the old way starts where the journey does only while live.
        previous.first_step_id = previous.start_step_id
        previous.status, previous.retired_at = JourneyVersionStatus.RETIRED, now
        _audited_save(previous, actor=actor, reason=f"Retired by v{version.number}")
    version.status, version.published_by, version.published_at = (
        JourneyVersionStatus.PUBLISHED,
        actor,
        now,
    )
    if plan is not None:
        version.enrollments_moved = plan.record(moved=plan.apply(version))
    version.first_step_id = version.start_step_id
    _audited_save(version, actor=actor, reason=f"Published by {actor.username}")
    _journey_point(journey, version, actor, now)
    return version


def _journey_point(journey: Journey, version: JourneyVersion, actor, now) -> None:
    journey.live_version, journey.first_step_id = version, version.first_step_id
    journey_settings_follow(journey, version)  # new entrants enter by the version's rules
    if journey.status == JourneyStatus.DRAFT:  # a first publish starts the journey
        journey.status, journey.activated_at = JourneyStatus.ACTIVE, now
    _audited_save(journey, actor=actor, reason=f"v{version.number} is live")


class MovePlan:
    """Where the enrollments running on `source` would go in `target`: each step they are
    on maps to the step of the same key and kind."""

    def __init__(self, source: JourneyVersion, target: JourneyVersion, occupied: dict[str, int]):
        self.source, self.target, self.occupied = source, target, occupied
        targets = {s.key: s for s in target.steps.all()}
        kinds = dict(source.steps.values_list("key", "kind"))
        self.mapping = {
            key: targets[key].key
            for key in occupied
            if key in targets and targets[key].kind == kinds.get(key)
        }
        self.unmapped = sorted(set(occupied) - set(self.mapping))
        self._targets = targets

    def refusal(self) -> str:
        steps = ", ".join(f"{key} ({self.occupied[key]} waiting)" for key in self.unmapped)
        return (
            f"Enrollments cannot be moved: v{self.target.number} has no step of the same key "
            f"and kind for {steps}. Publish without moving them: they finish on "
            f"v{self.source.number}."
        )

    def apply(self, version: JourneyVersion) -> int:
        """Moves the running enrollments, step by step (a step's own UPDATE)."""
        sources = dict(self.source.steps.values_list("key", "pk"))
        moved = 0
        for old_key, new_key in self.mapping.items():
            moved += Enrollment.objects.filter(
                current_step_id=sources[old_key], state__in=EnrollmentState.running()
            ).update(current_step=self._targets[new_key], version=version)
        return moved

    def record(self, *, moved: int) -> dict:
        return {
            "from_version": self.source.number,
            "mapping": self.mapping,
            "waiting": self.occupied,
            "moved": moved,
        }


def enrollment_move_plan(source: JourneyVersion, target: JourneyVersion) -> MovePlan:
    """The mapping a publish would use, for showing before the publisher chooses."""
    rows = (
        Enrollment.objects.filter(
            current_step__version_id=source.pk, state__in=EnrollmentState.running()
        )
        .values("current_step__key")
        .annotate(n=Count("id"))
        .order_by("current_step__key")
    )
    occupied = {row["current_step__key"]: row["n"] for row in rows}
    return MovePlan(source, target, occupied)
