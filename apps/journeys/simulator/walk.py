"""The walk: each step as the engine would take it, for one contact, as of now."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.segments import SegmentRulesError
from apps.contacts.stages import lifecycle_keys, lifecycle_reached
from apps.journeys.describe import duration_label
from apps.journeys.models import Journey, JourneyStatus, Step, StepKind
from apps.journeys.moments import event_moment
from apps.journeys.simulator.described import ContactDescription, described_gate
from apps.journeys.simulator.entry import EntryCheck, Subject, entry_checks
from apps.journeys.simulator.move import Move
from apps.journeys.simulator.sends import send_simulate
from apps.library.models import MessageTemplate
from apps.sends.policy import gate_evaluate

MAX_STEPS = 25  # the engine's own backstop per run (engine/advance.py)


@dataclass(frozen=True)
class SimulatedStep:
    number: int
    key: str
    kind: str
    kind_label: str
    outcome: str
    edges: tuple[tuple[str, str], ...] = ()  # (edge, where it leads) when both are shown
    decision: str = ""  # the gate's: allow, defer, hold or suppress
    reason_code: str = ""
    reason: str = ""
    until: datetime | None = None
    preview: str = ""


@dataclass
class Simulation:
    journey: Journey
    contact_label: str
    event_type: str
    at: datetime
    checks: list[EntryCheck]
    steps: list[SimulatedStep] = field(default_factory=list)
    ending: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def enters(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def path(self) -> list[str]:
        return [step.key for step in self.steps]


def journey_simulate(
    *,
    journey: Journey,
    contact: Contact | None = None,
    description: ContactDescription | None = None,
    event_type: str = "",
    event_properties: dict | None = None,
    now: datetime | None = None,
) -> Simulation:
    """The path a saved `contact`, or one built from `description`, would take now."""
    if (contact is None) == (description is None):
        raise ValueError("Simulate a saved contact or a described one.")
    now = now or timezone.now()
    subject = Subject(
        contact=contact if contact is not None else description.contact(),
        description=description,
        event_type=event_type,
        event_properties=event_properties or {},
        now=now,
    )
    checks, holdout = entry_checks(journey, subject)
    simulation = Simulation(
        journey=journey,
        contact_label=str(contact) if contact is not None else description.label(),
        event_type=event_type,
        at=now,
        checks=checks,
        notes=_notes(journey, subject),
    )
    if not simulation.enters:
        failed = next(check for check in checks if not check.passed)
        simulation.ending = f"Does not enter: {failed.detail}"
        return simulation
    _walk(simulation, _Run(journey, subject, holdout))
    return simulation


def _notes(journey: Journey, subject: Subject) -> list[str]:
    notes = [
        "Every send is checked against the gate as of now; earlier sends in this path are "
        "not counted toward caps (nothing is really sent)."
    ]
    if journey.status != JourneyStatus.ACTIVE:
        notes.insert(0, f"This journey is {journey.get_status_display().lower()}: nobody "
                        "enters until it is active. The path is shown as if it were.")  # fmt: skip
    if subject.saved and subject.event_type:
        notes.append(
            "The event is not recorded, so segment rules about events see only the events "
            "already on file."
        )
    return notes


class _Run:
    """What the step simulations share: the journey's steps and templates, the subject."""

    def __init__(self, journey: Journey, subject: Subject, holdout: bool):
        self.journey, self.subject, self.holdout = journey, subject, holdout
        self.steps = {step.key: step for step in journey.steps.all()}
        ids = [
            step.config.get("template")
            for step in self.steps.values()
            if step.kind in (StepKind.SEND_SMS, StepKind.SEND_EMAIL) and step.config
        ]
        ids = [i for i in ids if isinstance(i, int)]
        self.templates = MessageTemplate.objects.select_related("current_version").in_bulk(ids)

    def gate(self, message):
        if self.subject.saved:
            return gate_evaluate(message=message, at=self.subject.now)
        return described_gate(message, self.subject.now, self.subject.description)


def _walk(simulation: Simulation, run: _Run) -> None:
    key = run.journey.first_step.key if run.journey.first_step_id else None
    if key is None:
        simulation.ending = "The journey has no first step."
        return
    for number in range(1, MAX_STEPS + 1):
        step = run.steps.get(key)
        if step is None:
            simulation.ending = f"{key!r} is not a step of this journey: the engine would fail."
            return
        move = _SIMULATIONS[step.kind](run, step)
        simulation.steps.append(_record(number, step, move))
        if move.end or move.to is None:
            simulation.ending = move.end or "End of the journey (completed)."
            return
        key = move.to
    simulation.ending = f"Stopped following after {MAX_STEPS} steps."


def _record(number: int, step: Step, move: Move) -> SimulatedStep:
    gate = move.gate
    return SimulatedStep(
        number=number,
        key=step.key,
        kind=step.kind,
        kind_label=step.get_kind_display(),
        outcome=move.outcome,
        edges=move.edges,
        decision=getattr(gate, "decision", ""),
        reason_code=getattr(gate, "reason_code", ""),
        reason=getattr(gate, "reason", ""),
        until=getattr(gate, "until", None),
        preview=move.preview,
    )


def _next(step: Step) -> str | None:
    return (step.config or {}).get("next") or None


def _send(run: _Run, step: Step) -> Move:
    return send_simulate(run, step, _next(step))


def _wait(run: _Run, step: Step) -> Move:
    config = step.config or {}
    if not config.get("until_property"):
        return Move(f"Waits {duration_label(config)}.", to=_next(step))
    subject = run.subject
    moment = event_moment(
        config, subject.event_properties, zone=subject.contact.time_zone, now=subject.now
    )
    if not moment.missed:
        return Move(moment.reason, to=_next(step))
    missed = config.get("on_missed") or None
    return Move(moment.reason, to=missed, end="" if missed else f"{moment.reason} Completed.")


def _wait_until(run: _Run, step: Step) -> Move:
    config = step.config or {}
    events = " or ".join(config.get("events") or []) or "(no event set)"
    hours = config.get("within_hours", 0)
    edges = (
        (f"{events} happens", config.get("next") or "the end"),
        (f"no {events} within {hours} h", config.get("on_timeout") or "the end"),
    )
    return Move(
        f"Waits up to {hours} h for {events}.",
        end=f"Stops following at {step.key}: what comes next depends on whether {events} happens.",
        edges=edges,
    )


def _branch(run: _Run, step: Step) -> Move:
    config = step.config or {}
    condition = config.get("condition") or {}
    if "rules" in condition:
        try:
            holds = run.subject.rules_hold(condition["rules"])
        except SegmentRulesError as error:
            return Move(f"Its rules are invalid: {error}", end="The engine would fail here.")
        verb = "matches" if holds else "does not match"
        edge = "then" if holds else "else"
        return Move(f"The contact {verb} the rules: takes {edge!r}.", to=config.get(edge))
    outcome = condition.get("step_outcome") or {}
    return Move(
        f"Whether the message of {outcome.get('step')} will be {outcome.get('is')} is not "
        f"known yet: follows 'else' (it was not).",
        to=config.get("else"),
    )


def _split(run: _Run, step: Step) -> Move:
    variants = (step.config or {}).get("variants") or []
    if not variants:
        return Move("A split with no variants.", end="The engine would end the journey here.")
    shares = ", ".join(f"{v.get('name')} {v.get('percent')}% → {v.get('next')}" for v in variants)
    first = variants[0]
    return Move(
        f"The variant is drawn when the contact enters (per enrollment): {shares}. "
        f"Following {first.get('name')}.",
        to=first.get("next"),
    )


def _task(run: _Run, step: Step) -> Move:
    owner = run.subject.contact.owner if run.subject.contact.owner_id else None
    reason = (step.config or {}).get("reason") or f"Follow up from {run.journey.name}"
    who = f"the contact's owner is {owner}" if owner else "the contact has no owner"
    return Move(
        f"Creates a follow-up task ({reason}); routing rules pick who gets it ({who}).",
        to=_next(step),
    )


def _stage(run: _Run, step: Step) -> Move:
    stage = (step.config or {}).get("stage", "")
    if stage not in lifecycle_keys():
        return Move(f"{stage!r} is not a lifecycle stage.", end="The engine would fail here.")
    goal = run.journey.exit_lifecycle_stage
    if goal and lifecycle_reached(stage, goal):
        return Move(
            f"Sets the lifecycle stage to {stage}.",
            end=f"Goal reached: lifecycle stage reached {stage}.",
        )
    return Move(
        f"Sets the lifecycle stage to {stage} (later branches here still see it as it is now).",
        to=_next(step),
    )


def _exit(run: _Run, step: Step) -> Move:
    return Move("Reaches an exit step.", end="Ends here (completed).")


_SIMULATIONS: dict[str, Callable[[_Run, Step], Move]] = {
    StepKind.SEND_SMS: _send,
    StepKind.SEND_EMAIL: _send,
    StepKind.WAIT: _wait,
    StepKind.WAIT_UNTIL: _wait_until,
    StepKind.BRANCH: _branch,
    StepKind.SPLIT: _split,
    StepKind.CREATE_TASK: _task,
    StepKind.SET_LIFECYCLE_STAGE: _stage,
    StepKind.EXIT: _exit,
}
