"""The shape of each step kind's config, and the rules a journey's graph must meet before
it may be activated: no dangling step, every branch ends, no loop without a wait, every
send step on an approved template version, and a trigger.

Edges are step keys in config:
  send_sms / send_email  {"template": <template id>, "next": key,
                          "on_suppressed": "continue"|"exit", "on_deferred": "wait"|"continue"}
  wait                   {"minutes"|"hours"|"days": n, "next": key} or, until a time in the
                         triggering event (apps/journeys/moments.py),
                         {"until_property": name, "offset_minutes": n, "late_after_minutes": n,
                          "next": key, "on_missed": key}
  wait_until             {"events": [types], "within_hours": n, "next": key, "on_timeout": key}
  branch                 {"condition": {"rules": <segment rules>} |
                                       {"step_outcome": {"step": key, "is": "delivered"|"clicked"|
                                                         "replied"|"opened"}},
                          "then": key, "else": key}
  split                  {"variants": [{"name": "A", "percent": 50, "next": key}, ...]}
  create_task            {"reason": text, "next": key}
  set_lifecycle_stage    {"stage": stage, "next": key}
  exit                   {}
A missing "next" ends the journey (completed).
"""

from apps.contacts.stages import lifecycle_keys
from apps.journeys.models import Journey, Step, StepKind, TriggerKind
from apps.journeys.moments import moment_config_problems

WAITING_KINDS = {StepKind.WAIT, StepKind.WAIT_UNTIL}
SEND_KINDS = {StepKind.SEND_SMS, StepKind.SEND_EMAIL}
OUTCOMES = {"delivered", "clicked", "replied", "opened"}


def step_edges(step: Step) -> list[tuple[str, str]]:
    """(label, target key) of every edge leaving the step."""
    config = step.config or {}
    if step.kind == StepKind.BRANCH:
        return [("then", config.get("then")), ("else", config.get("else"))]
    if step.kind == StepKind.SPLIT:
        return [(v.get("name", "?"), v.get("next")) for v in config.get("variants", [])]
    if step.kind == StepKind.WAIT_UNTIL:
        return [("event", config.get("next")), ("timeout", config.get("on_timeout"))]
    if step.kind == StepKind.EXIT:
        return []
    if step.kind == StepKind.WAIT and config.get("until_property"):
        return [("next", config.get("next")), ("missed", config.get("on_missed"))]
    return [("next", config.get("next"))]


def journey_problems(journey: Journey, steps: list[Step] | None = None) -> list[str]:
    """Everything that keeps the journey from being activated, in words for its author."""
    steps = list(journey.steps.all()) if steps is None else steps
    by_key = {step.key: step for step in steps}
    problems = _trigger_problems(journey)
    if journey.first_step_id is None or journey.first_step_id not in {s.pk for s in steps}:
        problems.append("Choose the first step.")
    for step in steps:
        problems += [f"Step {step.key}: {p}" for p in _step_problems(step, by_key)]
    problems += _loop_problems(by_key)
    problems += _event_time_problems(journey, steps)
    return problems


def _event_time_problems(journey: Journey, steps: list[Step]) -> list[str]:
    if journey.trigger_kind == TriggerKind.EVENT:
        return []
    return [
        f"Step {step.key}: waits for a time in the triggering event, but a segment entry "
        "has no event."
        for step in steps
        if step.kind == StepKind.WAIT and (step.config or {}).get("until_property")
    ]


def _trigger_problems(journey: Journey) -> list[str]:
    if journey.trigger_kind == TriggerKind.EVENT and not journey.trigger_event_type:
        return ["Set the event that starts the journey."]
    if journey.trigger_kind == TriggerKind.SEGMENT_ENTRY and journey.entry_segment_id is None:
        return ["Set the segment whose new members enter the journey."]
    return []


def _step_problems(step: Step, by_key: dict[str, Step]) -> list[str]:
    problems = [
        f'its "{label}" leads to {target!r}, which is not a step of this journey.'
        for label, target in step_edges(step)
        if target and target not in by_key
    ]
    checker = _KIND_CHECKS.get(step.kind)
    return problems + (checker(step) if checker else [])


def _send_problems(step: Step) -> list[str]:
    from apps.library.models import MessageTemplate

    template = MessageTemplate.objects.filter(pk=(step.config or {}).get("template")).first()
    if template is None:
        return ["choose a template."]
    channel = "sms" if step.kind == StepKind.SEND_SMS else "email"
    if template.channel != channel:
        return [f"{template.name} is an {template.channel} template, not {channel}."]
    version = template.current_version
    if version is None or version.status != "approved":
        return [f"{template.name} has no approved version yet."]
    return []


def _wait_problems(step: Step) -> list[str]:
    config = step.config or {}
    if "until_property" in config:
        return moment_config_problems(config)
    amount = sum(_number(config.get(unit)) for unit in ("minutes", "hours", "days"))
    return [] if amount > 0 else ["say how long to wait (minutes, hours or days)."]


def _wait_until_problems(step: Step) -> list[str]:
    config = step.config or {}
    problems = []
    if not config.get("events"):
        problems.append("list the events to wait for.")
    if _number(config.get("within_hours")) <= 0:
        problems.append("say how many hours to wait before timing out.")
    return problems


def _branch_problems(step: Step) -> list[str]:
    config = step.config or {}
    problems = [f'set where "{edge}" leads.' for edge in ("then", "else") if not config.get(edge)]
    condition = config.get("condition") or {}
    if "rules" in condition:
        from apps.contacts.segments import segment_rules_validate

        problems += segment_rules_validate(condition["rules"])
    elif "step_outcome" in condition:
        outcome = condition["step_outcome"] or {}
        if outcome.get("is") not in OUTCOMES:
            problems.append(f"the outcome must be one of {', '.join(sorted(OUTCOMES))}.")
    else:
        problems.append('set a condition: {"rules": ...} or {"step_outcome": ...}.')
    return problems


def _split_problems(step: Step) -> list[str]:
    variants = (step.config or {}).get("variants") or []
    if len(variants) < 2:
        return ["an A/B split needs at least two variants."]
    total = sum(_number(v.get("percent")) for v in variants)
    return [] if total == 100 else [f"the variants' percentages add up to {total}, not 100."]


def _stage_problems(step: Step) -> list[str]:
    stage = (step.config or {}).get("stage")
    return [] if stage in lifecycle_keys() else [f"{stage!r} is not a lifecycle stage."]


def _number(value) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


_KIND_CHECKS = {
    StepKind.SEND_SMS: _send_problems,
    StepKind.SEND_EMAIL: _send_problems,
    StepKind.WAIT: _wait_problems,
    StepKind.WAIT_UNTIL: _wait_until_problems,
    StepKind.BRANCH: _branch_problems,
    StepKind.SPLIT: _split_problems,
    StepKind.SET_LIFECYCLE_STAGE: _stage_problems,
}


def _loop_problems(by_key: dict[str, Step]) -> list[str]:
    """A cycle is allowed only through a wait: otherwise one run would spin forever."""
    instant = {key: step for key, step in by_key.items() if step.kind not in WAITING_KINDS}
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
