"""What a journey version changes from the one before it, its settings and then step by
step, in plain words: what the history page and the API show a reviewer before they
approve."""

from apps.contacts.models import Segment
from apps.journeys.models import JourneySettings, JourneyVersion, ReentryPolicy, Step, TriggerKind
from apps.journeys.steps import step_edges, step_summary, step_template_id
from apps.library.models import MessageTemplate


def version_previous(version: JourneyVersion) -> JourneyVersion | None:
    """The version it was copied from: the newest one numbered below it."""
    return (
        JourneyVersion.objects.filter(journey_id=version.journey_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def version_changes(previous: JourneyVersion | None, version: JourneyVersion) -> list[str]:
    """One sentence per change: each setting changed (trigger, entry, goal, rules), steps
    added, removed, of another kind, doing something else or leading elsewhere, and a new
    first step."""
    old = _steps(previous) if previous is not None else {}
    new = _steps(version)
    names = _template_names([*old.values(), *new.values()])
    changes = settings_changes(previous, version) if previous is not None else []
    changes += _start_change(previous, version, old, new)
    for key, step in new.items():
        if key not in old:
            changes.append(f"Added step {key} ({step.get_kind_display()}): {_said(step, names)}.")
        else:
            changes += _step_changes(old[key], step, names)
    changes += [
        f"Removed step {key} ({old[key].get_kind_display()}: {_said(old[key], names)})."
        for key in old
        if key not in new
    ]
    return changes


WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def settings_changes(previous: JourneySettings, version: JourneySettings) -> list[str]:
    """ "Re-entry: never → after 30 days." for each setting said differently."""
    segments = _segment_names([previous.entry_segment_id, version.entry_segment_id])
    was, now = settings_said(previous, segments), settings_said(version, segments)
    return [f"{label}: {was[label]} → {said}." for label, said in now.items() if said != was[label]]


def settings_said(settings: JourneySettings, segments: dict[int, str]) -> dict[str, str]:
    """Each setting in plain words, by its label."""
    s = settings
    return {
        "Trigger": _trigger_said(s, segments),
        "Entry segment": _segment_said(s.entry_segment_id, segments) or "every contact",
        "Goal events": ", ".join(s.exit_event_types or []) or "none",
        "Goal stage": s.exit_lifecycle_stage or "none",
        "Goal on an opportunity": "yes" if s.exit_on_opportunity else "no",
        "Goal deal stage": str(s.exit_pipeline_stage) if s.exit_pipeline_stage_id else "none",
        "Re-entry": "never"
        if s.reentry == ReentryPolicy.NEVER
        else f"after {s.reentry_days or 0} days",
        "Cap": f"{s.cap_messages} in {s.cap_hours} h" if s.cap_messages and s.cap_hours else "none",
        "Sending days": ", ".join(WEEKDAY_NAMES[d] for d in sorted(s.send_weekdays or []))
        or "any day",
        "Holdout": f"{s.holdout_percent}%",
    }


def _trigger_said(settings: JourneySettings, segments: dict[int, str]) -> str:
    if settings.trigger_kind == TriggerKind.SEGMENT_ENTRY:
        return f"joining {_segment_said(settings.entry_segment_id, segments) or 'no segment'}"
    said = settings.trigger_event_type or "no event"
    filters = settings.trigger_filters or {}
    return f"{said} with {filters}" if filters else said


def _segment_said(segment_id: int | None, segments: dict[int, str]) -> str:
    if segment_id is None:
        return ""
    return f"the segment “{segments.get(segment_id, segment_id)}”"


def _segment_names(ids: list[int | None]) -> dict[int, str]:
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return dict(Segment.objects.filter(pk__in=wanted).values_list("pk", "name"))


def _steps(version: JourneyVersion) -> dict[str, Step]:
    return {step.key: step for step in version.steps.order_by("position", "id")}


def _start_change(previous, version, old: dict, new: dict) -> list[str]:
    was = _key_of(previous.start_step_id, old) if previous is not None else None
    now = _key_of(version.start_step_id, new)
    if previous is None or was == now:
        return [] if previous is not None or now is None else [f"Starts at {now}."]
    return [f"Starts at {now or 'no step'} instead of {was or 'no step'}."]


def _key_of(step_id: int | None, steps: dict[str, Step]) -> str | None:
    return next((key for key, step in steps.items() if step.pk == step_id), None)


def _step_changes(old: Step, new: Step, names: dict) -> list[str]:
    if old.kind != new.kind:
        return [
            f"Step {new.key} is now “{new.get_kind_display()}” ({_said(new, names)}) instead "
            f"of “{old.get_kind_display()}” ({_said(old, names)})."
        ]
    changes = []
    if _said(old, names) != _said(new, names):
        changes.append(f"Step {new.key} now {_said(new, names)} (was: {_said(old, names)}).")
    old_edges, new_edges = dict(step_edges(old)), dict(step_edges(new))
    for label, target in new_edges.items():
        if old_edges.get(label) != target:
            where, was = target or "the end", old_edges.get(label) or "the end"
            changes.append(f"Step {new.key}: “{label}” now leads to {where} (was {was}).")
    if not changes and old.config != new.config:
        changes.append(f"Step {new.key}: its settings changed.")
    return changes


def _said(step: Step, names: dict) -> str:
    return step_summary(step, names) or step.get_kind_display().lower()


def _template_names(steps: list[Step]) -> dict[int, str]:
    ids = {pk for step in steps if (pk := step_template_id(step)) is not None}
    if not ids:
        return {}
    return dict(MessageTemplate.objects.filter(pk__in=ids).values_list("pk", "name"))
