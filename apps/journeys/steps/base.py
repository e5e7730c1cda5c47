"""What every step kind provides: a typed config read from (and written to) `Step.config`,
its edges, its activation checks, its summary and look, its builder fields, and its run.

A run takes a context (`StepContext`): the engine's, which writes and sends, or the
simulator's dry one, which only answers what it can know now. The run decides; the context
acts. So the simulator walks the engine's own logic, not a copy of it.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Protocol

from django import forms

from apps.journeys.models import EnrollmentState, Step

EDGE_HELP = "The key of the step that comes next; leave it empty to end the journey there."
UNKNOWN = object()  # a dry context's answer to a question only the future can answer


class StepConfig:
    """Base of each kind's config dataclass. Field names are the stored keys unless a field
    says otherwise in its metadata ({"key": "else"}); a missing key takes the default, so
    an incomplete config (a draft) still reads, and the activation checks say what is
    missing."""

    @classmethod
    def read(cls, raw: dict | None) -> "StepConfig":
        raw = raw if isinstance(raw, dict) else {}
        return cls(**{name: raw[key] for name, key in _stored_keys(cls) if key in raw})

    def stored(self) -> dict:
        """The form Step.config keeps: empty values are left out."""
        stored = {}
        for name, key in _stored_keys(type(self)):
            value = getattr(self, name)
            if value not in (None, "", []):
                stored[key] = value
        return stored


@cache
def _stored_keys(config_class: type) -> tuple[tuple[str, str], ...]:
    """(field name, stored key) of a config dataclass, worked out once per class."""
    return tuple((spec.name, spec.metadata.get("key", spec.name)) for spec in fields(config_class))


def number(value) -> float:
    """A number a config may hold, or 0 for anything else (a bool is not a number here)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Move:
    """Where the enrollment goes: to another step, to sleep on this one, or out.

    `said` and `ending` are the same decision in the simulator's words, `forks` the edges
    when what follows depends on something that has not happened yet; the engine reads
    none of them."""

    to: str | None = None
    sleep_until: datetime | None = None
    end_state: str | None = None
    reason: str = ""
    said: str = ""
    ending: str = ""
    forks: tuple[tuple[str, str], ...] = ()
    gate: Any = None
    preview: str = ""


def edge_move(target: str | None, reason: str, *, said: str = "", ending: str = "") -> Move:
    """Along an edge; an empty edge ends the journey (completed)."""
    if target:
        return Move(to=target, reason=reason, said=said)
    return Move(
        end_state=EnrollmentState.COMPLETED,
        reason=reason or "End of the journey.",
        said=said,
        ending=ending,
    )


class StepContext(Protocol):
    """What a step's run may ask and do. The engine's context writes; the dry one does not."""

    dry: bool
    now: datetime
    holdout: bool
    journey: Any
    contact: Any

    def entered_at(self) -> datetime: ...
    def visit(self, step: Step) -> int: ...
    def trigger_properties(self) -> dict | None: ...
    def log(self, step: Step, kind: str, reason: str, **detail) -> None: ...
    def message_send(self, step: Step, template_id) -> Any: ...
    # A yes to a question below leads along the step's first edge (then, the event).
    def event_since(self, types: list[str], since: datetime) -> Any: ...
    def rules_hold(self, rules: dict) -> bool: ...
    def step_outcome(self, step_key: str, outcome: str) -> Any: ...
    def variant_choose(self, step: Step, variants: list[dict]) -> str: ...
    def task_create(self, step: Step, reason: str) -> Any: ...
    def stage_set(self, stage: str) -> None: ...


class StepSpec(ABC):
    """One step kind, whole. Subclass it in a module of its own and register an instance in
    apps/journeys/steps/__init__.py."""

    kind: ClassVar[str]
    badge: ClassVar[str]  # the diagram's tag, e.g. "SMS"
    colour: ClassVar[str]  # the diagram's box fill
    Config: ClassVar[type[StepConfig]]
    fieldset: ClassVar[str]  # the builder's fieldset title ("" for none)
    layout: ClassVar[list] = []  # the fieldset's fields (kinds sharing a title share it)
    follows_next: ClassVar[bool] = True  # shows the shared "Then go to" field
    waits: ClassVar[bool] = False  # a loop through a step of this kind is allowed

    def config(self, step: Step) -> Any:
        return self.Config.read(step.config)

    @abstractmethod
    def edges(self, config) -> list[tuple[str, str | None]]:
        """(label, target key) of every edge leaving the step."""

    def outcome_labels(self, config) -> list[str]:
        """Each edge as the outcome that takes it ("clicked", "no reply within 48 h"), for
        the simulator's choice of which way to follow; by default the edges' own labels."""
        return [label for label, _ in self.edges(config)]

    def problems(self, step: Step, config) -> list[str]:
        """What keeps a step of this kind from being activated, besides dangling edges."""
        return []

    def config_errors(self, config) -> dict[str, list[str]]:
        """What keeps a config from being saved at all, even in a draft, by where it is in
        the config (e.g. "variants.#2.percent"): the API and the service refuse it."""
        return {}

    def segment_entry_problems(self, config) -> list[str]:
        """What is wrong with this step in a journey a segment entry starts (no event)."""
        return []

    @abstractmethod
    def summary(self, config, template_names: dict) -> str:
        """One line on what the step does, e.g. "waits 24 h"."""

    def template_id(self, config) -> int | None:
        return None

    def form_fields(self) -> dict[str, forms.Field]:
        """The builder's fields this kind adds (fresh instances)."""
        return {}

    def builder_fields(self) -> list[str]:
        """The builder fields a step of this kind shows (kinds sharing a fieldset may each
        use only some of its fields)."""
        return list(self.form_fields())

    def form_errors(self, cleaned: dict) -> dict[str, list[str]]:
        """Errors across this kind's fields, by field name."""
        return {}

    @abstractmethod
    def config_from_form(self, cleaned: dict) -> StepConfig:
        """The config from the builder's cleaned fields."""

    def initial(self, config, *, own: bool) -> dict:
        """form_initial, with the shared "Then go to" field for a kind that has it."""
        shared = {"next_step": config.next or ""} if self.follows_next else {}
        return {**shared, **self.form_initial(config, own=own)}

    def form_initial(self, config, *, own: bool) -> dict:
        """The builder's fields for a stored config. Every kind's fields are filled from the
        stored keys they read (`own` is False for another kind's step)."""
        return {}

    @abstractmethod
    def run(self, context: StepContext, step: Step, config) -> Move:
        """What the step does now. Running it again for the same visit does the same thing."""
