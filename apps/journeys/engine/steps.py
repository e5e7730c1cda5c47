"""Running one step: its kind's spec (apps/journeys/steps/) decides, with the engine's live
context. A run returns a Move; it never advances by itself, and running it again for the
same visit does the same thing (its send key is enrollment + step + visit), so a crash or a
second worker never sends twice."""

from datetime import datetime

from apps.journeys.engine.context import LiveContext
from apps.journeys.models import Enrollment, Step
from apps.journeys.steps import SPECS, Move

__all__ = ["Move", "step_run"]


def step_run(enrollment: Enrollment, step: Step, now: datetime, made: dict | None = None) -> Move:
    """`made`: the messages a batch already created, by send key (engine/sends.py)."""
    spec = SPECS[step.kind]
    return spec.run(LiveContext(enrollment, now, made), step, spec.config(step))
