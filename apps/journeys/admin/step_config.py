"""A step's config (the shapes in apps/journeys/graph.py) to and from the builder's plain
fields."""

import re

from apps.contacts.segments import segment_rules_validate
from apps.journeys.graph import OUTCOMES, SEND_KINDS
from apps.journeys.models import StepKind

STEP_KEY = re.compile(r"^[-a-zA-Z0-9_]+$")
MINUTES_IN = {"days": 1440, "hours": 60, "minutes": 1}


def condition_errors(condition) -> list[str]:
    if not isinstance(condition, dict) or len(condition) != 1:
        return ['Give {"rules": ...} or {"step_outcome": ...}.']
    if "rules" in condition:
        return segment_rules_validate(condition["rules"])
    outcome = condition.get("step_outcome")
    if not isinstance(outcome, dict):
        return ['Give {"rules": ...} or {"step_outcome": {"step": ..., "is": ...}}.']
    errors = []
    if not STEP_KEY.match(str(outcome.get("step", ""))):
        errors.append("step_outcome.step: give the key of the send step.")
    if outcome.get("is") not in OUTCOMES:
        errors.append(f"step_outcome.is: one of {', '.join(sorted(OUTCOMES))}.")
    return errors


def config_from_fields(kind: str, data: dict) -> dict:
    """The config of a step of this kind, from the form's cleaned fields."""
    edge = data.get("next_step") or None
    if kind in SEND_KINDS:
        channel = "sms" if kind == StepKind.SEND_SMS else "email"
        config = {
            "template": data.get(f"{channel}_template"),
            "next": edge,
            "on_suppressed": data.get("on_suppressed") or "continue",
            "on_deferred": data.get("on_deferred") or "wait",
        }
    elif kind == StepKind.WAIT and data.get("until_property"):
        config = {
            "until_property": data["until_property"],
            "offset_minutes": data.get("offset_minutes") or 0,
            "late_after_minutes": data.get("late_after_minutes"),
            "next": edge,
            "on_missed": data.get("on_missed") or None,
        }
    elif kind == StepKind.WAIT:
        amount = data.get("wait_amount")
        config = {data.get("wait_unit") or "hours": amount, "next": edge}
    elif kind == StepKind.WAIT_UNTIL:
        config = {
            "events": data.get("events") or [],
            "within_hours": data.get("within_hours"),
            "next": edge,
            "on_timeout": data.get("on_timeout") or None,
        }
    elif kind == StepKind.BRANCH:
        config = {
            "condition": data.get("condition") or None,
            "then": data.get("then_step") or None,
            "else": data.get("else_step") or None,
        }
    elif kind == StepKind.SPLIT:
        config = {"variants": data.get("variants") or []}
    elif kind == StepKind.CREATE_TASK:
        config = {"reason": data.get("task_reason") or None, "next": edge}
    elif kind == StepKind.SET_LIFECYCLE_STAGE:
        config = {"stage": data.get("stage") or None, "next": edge}
    else:
        config = {}
    return {key: value for key, value in config.items() if value not in (None, "", [])}


def config_initial(kind: str, config: dict) -> dict:
    """The form's fields for a stored config (the inverse of config_from_fields)."""
    initial = {
        "next_step": config.get("next", ""),
        "on_suppressed": config.get("on_suppressed", "continue"),
        "on_deferred": config.get("on_deferred", "wait"),
        "events": config.get("events", []),
        "within_hours": config.get("within_hours"),
        "on_timeout": config.get("on_timeout", ""),
        "condition": config.get("condition"),
        "then_step": config.get("then", ""),
        "else_step": config.get("else", ""),
        "variants": config.get("variants", []),
        "task_reason": config.get("reason", ""),
        "stage": config.get("stage", ""),
        "until_property": config.get("until_property", ""),
        "offset_minutes": config.get("offset_minutes"),
        "late_after_minutes": config.get("late_after_minutes"),
        "on_missed": config.get("on_missed", ""),
    }
    if kind in SEND_KINDS:
        channel = "sms" if kind == StepKind.SEND_SMS else "email"
        initial[f"{channel}_template"] = config.get("template")
    if kind == StepKind.WAIT:
        initial.update(_wait_initial(config))
    return initial


def _wait_initial(config: dict) -> dict:
    minutes = sum(
        (config.get(unit) or 0) * size
        for unit, size in MINUTES_IN.items()
        if isinstance(config.get(unit), int | float)
    )
    if not minutes:
        return {}
    unit = next(u for u, size in MINUTES_IN.items() if minutes % size == 0)
    return {"wait_amount": int(minutes // MINUTES_IN[unit]), "wait_unit": unit}
