"""Step kinds: one module per kind, each one `StepSpec` holding everything the kind means.

A spec gives its typed config (read from and written to `Step.config`, defaults in the
dataclass), its edges, its activation checks, its one-line summary, its diagram badge and
colour, its builder fields with the conversion both ways, and its run. The engine, the
simulator (the same run, with a dry context), the activation checks, the diagram and the
builder all read the spec; none of them knows a kind by name.

How to add a step kind:
1. Add its value to `StepKind` (apps/journeys/models.py) and make the migration for the
   field's choices.
2. Write `apps/journeys/steps/<kind>.py`: a config dataclass (a `StepConfig`) and a
   `StepSpec` subclass; implement at least `edges`, `summary`, `config_from_form` and `run`
   (the abstract methods), and the others the kind needs. A run asks and acts only through
   its context, so the simulator can run it dry; what it cannot know in a dry run comes
   back as `UNKNOWN`.
3. Register an instance in `SPECS` below. tests/journeys/test_step_specs.py checks that
   every kind has a complete spec.
"""

from apps.journeys.models import Step
from apps.journeys.steps.base import (
    EDGE_HELP,
    UNKNOWN,
    Move,
    StepConfig,
    StepContext,
    StepSpec,
)
from apps.journeys.steps.branch import BranchSpec
from apps.journeys.steps.create_task import CreateTaskSpec
from apps.journeys.steps.exit import ExitSpec
from apps.journeys.steps.form_fields import StepKeyField
from apps.journeys.steps.send import SendEmailSpec, SendSmsSpec
from apps.journeys.steps.set_stage import SetStageSpec
from apps.journeys.steps.split import SplitSpec
from apps.journeys.steps.wait import WaitSpec
from apps.journeys.steps.wait_until import WaitUntilSpec

SPECS: dict[str, StepSpec] = {
    spec.kind: spec
    for spec in (
        SendSmsSpec(),
        SendEmailSpec(),
        WaitSpec(),
        WaitUntilSpec(),
        BranchSpec(),
        SplitSpec(),
        CreateTaskSpec(),
        SetStageSpec(),
        ExitSpec(),
    )
}


def spec_for(kind: str) -> StepSpec:
    """The spec of a kind; KeyError for a kind no module defines."""
    return SPECS[kind]


def step_edges(step: Step) -> list[tuple[str, str | None]]:
    """(label, target key) of every edge leaving the step (none for a kind no module
    defines)."""
    spec = SPECS.get(step.kind)
    return spec.edges(spec.config(step)) if spec else []


def step_summary(step: Step, template_names: dict | None = None) -> str:
    """One line on what the step does, e.g. "waits 24 h" or "webinar_attended, up to 3 h"."""
    spec = SPECS.get(step.kind)
    return spec.summary(spec.config(step), template_names or {}) if spec else ""


def step_template_id(step: Step) -> int | None:
    """The id of the template the step sends, if it is a send step with one chosen."""
    spec = SPECS.get(step.kind)
    return spec.template_id(spec.config(step)) if spec else None


def step_form_fields() -> dict:
    """Every kind's builder fields, by name (kinds may share one, e.g. the send kinds)."""
    merged: dict = {"next_step": StepKeyField(label="Then go to", help_text=EDGE_HELP)}
    for spec in SPECS.values():
        merged.update(spec.form_fields())
    return merged


def step_form_initial(kind: str, raw: dict) -> dict:
    """The builder's fields for a stored config: every kind reads the keys it knows (as
    the fields of a kind switched to in the form start from them), the step's own kind
    last."""
    initial: dict = {}
    for spec in SPECS.values():
        if spec.kind != kind:
            initial.update(spec.initial(spec.Config.read(raw), own=False))
    own = SPECS.get(kind)
    if own is not None:
        initial.update(own.initial(own.Config.read(raw), own=True))
    return initial


__all__ = [
    "SPECS",
    "UNKNOWN",
    "Move",
    "StepConfig",
    "StepContext",
    "StepSpec",
    "spec_for",
    "step_edges",
    "step_form_fields",
    "step_form_initial",
    "step_summary",
    "step_template_id",
]
