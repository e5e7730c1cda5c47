"""Steps in words: the short summaries the diagram, the builder and the simulator share."""

from apps.journeys.models import Step, StepKind
from apps.journeys.moments import moment_label

KIND_BADGES = {
    StepKind.SEND_SMS: "SMS",
    StepKind.SEND_EMAIL: "EMAIL",
    StepKind.WAIT: "WAIT",
    StepKind.WAIT_UNTIL: "UNTIL",
    StepKind.BRANCH: "IF",
    StepKind.SPLIT: "A/B",
    StepKind.CREATE_TASK: "TASK",
    StepKind.SET_LIFECYCLE_STAGE: "STAGE",
    StepKind.EXIT: "EXIT",
}

_UNITS = (("days", "day", "days"), ("hours", "h", "h"), ("minutes", "min", "min"))


def duration_label(config: dict) -> str:
    """`{"hours": 24}` is "24 h"; `{"days": 3}` is "3 days"; several units are joined."""
    parts = []
    for unit, one, many in _UNITS:
        amount = config.get(unit)
        if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0:
            parts.append(f"{amount:g} {one if amount == 1 else many}")
    return " ".join(parts) or "no time set"


def step_summary(step: Step, template_names: dict | None = None) -> str:
    """One line on what the step does, e.g. "waits 24 h" or "webinar_attended, up to 3 h"."""
    config = step.config or {}
    summarize = _SUMMARIES.get(step.kind)
    return summarize(config, template_names or {}) if summarize else ""


def _send(config: dict, names: dict) -> str:
    template = config.get("template")
    if template in (None, ""):
        return "no template chosen"
    return names.get(template) or names.get(str(template)) or f"template {template}"


def _wait(config: dict, names: dict) -> str:
    if config.get("until_property"):
        return f"waits until {moment_label(config)}"
    return f"waits {duration_label(config)}"


def _wait_until(config: dict, names: dict) -> str:
    events = " or ".join(config.get("events") or []) or "no event set"
    hours = config.get("within_hours")
    return f"{events}, up to {hours:g} h" if isinstance(hours, int | float) else events


def _branch(config: dict, names: dict) -> str:
    condition = config.get("condition") or {}
    if "step_outcome" in condition:
        outcome = condition.get("step_outcome") or {}
        return f"if {outcome.get('step', '?')} was {outcome.get('is', '?')}"
    return "if the contact matches the rules" if "rules" in condition else "no condition set"


def _split(config: dict, names: dict) -> str:
    variants = config.get("variants") or []
    return " · ".join(f"{v.get('name', '?')} {v.get('percent', 0)}%" for v in variants)


def _task(config: dict, names: dict) -> str:
    return config.get("reason") or "follow-up task"


def _stage(config: dict, names: dict) -> str:
    return f"stage → {config.get('stage') or '?'}"


_SUMMARIES = {
    StepKind.SEND_SMS: _send,
    StepKind.SEND_EMAIL: _send,
    StepKind.WAIT: _wait,
    StepKind.WAIT_UNTIL: _wait_until,
    StepKind.BRANCH: _branch,
    StepKind.SPLIT: _split,
    StepKind.CREATE_TASK: _task,
    StepKind.SET_LIFECYCLE_STAGE: _stage,
}
