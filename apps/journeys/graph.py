"""The rules a journey's graph must meet before it may be activated: a trigger, a first
step, no dangling edge, every kind's own checks (apps/journeys/steps/), and no loop without
a wait. A missing edge ends the journey (completed)."""

from apps.journeys.models import Journey, JourneySettings, JourneyVersion, Step, TriggerKind
from apps.journeys.steps import SPECS, step_edges

__all__ = ["journey_problems", "step_edges"]


def journey_problems(
    journey: Journey, steps: list[Step] | None = None, *, version: JourneyVersion | None = None
) -> list[str]:
    """Everything that keeps the journey (the version shown, or `version`) from being
    activated or published, in words for its author."""
    version = version or journey.version_shown()
    if steps is None:
        steps = list(version.steps.all()) if version is not None else []
    by_key = {step.key: step for step in steps}
    settings = version or journey  # the trigger the version would go live with
    problems = _trigger_problems(settings)
    first_id = getattr(version, "first_step_id", None) or journey.first_step_id
    if first_id is None or first_id not in {s.pk for s in steps}:
        problems.append("Choose the first step.")
    for step in steps:
        problems += [f"Step {step.key}: {p}" for p in _step_problems(step, by_key)]
    problems += _loop_problems(by_key)
    if settings.trigger_kind != TriggerKind.EVENT:
        problems += _segment_entry_problems(steps)
    return problems


def _segment_entry_problems(steps: list[Step]) -> list[str]:
    problems = []
    for step in steps:
        spec = SPECS[step.kind]
        found = spec.segment_entry_problems(spec.config(step))
        problems += [f"Step {step.key}: {problem}" for problem in found]
    return problems


def _trigger_problems(settings: JourneySettings) -> list[str]:
    if settings.trigger_kind == TriggerKind.EVENT and not settings.trigger_event_type:
        return ["Set the event that starts the journey."]
    if settings.trigger_kind == TriggerKind.SEGMENT_ENTRY and settings.entry_segment_id is None:
        return ["Set the segment whose new members enter the journey."]
    return []


def _step_problems(step: Step, by_key: dict[str, Step]) -> list[str]:
    spec = SPECS[step.kind]
    config = spec.config(step)
    problems = [
        f'its "{label}" leads to {target!r}, which is not a step of this journey.'
        for label, target in spec.edges(config)
        if target and target not in by_key
    ]
    return problems + spec.problems(step, config)


def _loop_problems(by_key: dict[str, Step]) -> list[str]:
    """A cycle is allowed only through a wait: otherwise one run would spin forever."""
    instant = {key: step for key, step in by_key.items() if not SPECS[step.kind].waits}
    state: dict[str, str] = {}
    problems: list[str] = []

    def visit(key: str, path: list[str]) -> None:
        state[key] = "open"
        for _, target in step_edges(instant[key]):
            if target not in instant:
                continue
            if state.get(target) == "open":
                loop = [*path[path.index(target) :], target] if target in path else [key, target]
                problems.append(f"Steps {' → '.join(loop)} loop without a wait.")
            elif target not in state:
                visit(target, [*path, target])
        state[key] = "done"

    for key in instant:
        if key not in state:
            visit(key, [key])
    return problems
