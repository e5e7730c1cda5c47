"""What a journey version changes from the one before it, step by step, in plain words:
what the history page and the API show a reviewer before they approve."""

from apps.journeys.models import JourneyVersion, Step
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
    """One sentence per change: steps added, removed, of another kind, doing something
    else or leading elsewhere, and a new first step."""
    old = _steps(previous) if previous is not None else {}
    new = _steps(version)
    names = _template_names([*old.values(), *new.values()])
    changes = _start_change(previous, version, old, new)
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
