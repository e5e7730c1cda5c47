"""The walk: each step run by the engine's own logic (its kind's spec) in a dry context, for
one contact, as of now."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from apps.contacts.models import Contact
from apps.journeys.models import EnrollmentState, Journey, JourneyStatus, Step
from apps.journeys.simulator.described import ContactDescription, described_gate
from apps.journeys.simulator.dry import DryContext, DryFailure
from apps.journeys.simulator.entry import EntryCheck, Subject, entry_checks
from apps.journeys.steps import SPECS, Move, step_template_id
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
        ids = [pk for step in self.steps.values() if (pk := step_template_id(step)) is not None]
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
    context = DryContext(run, run.subject.now)
    for number in range(1, MAX_STEPS + 1):
        step = run.steps.get(key)
        if step is None:
            simulation.ending = f"{key!r} is not a step of this journey: the engine would fail."
            return
        key = _step_take(simulation, number, step, context)
        if key is None:
            return
    simulation.ending = f"Stopped following after {MAX_STEPS} steps."


def _step_take(simulation: Simulation, number: int, step: Step, context: DryContext) -> str | None:
    """Runs the step as the engine would, dry, and records it; returns the next step's key,
    or None when the path ends here (with the simulation's ending set)."""
    spec = SPECS[step.kind]
    config = spec.config(step)
    try:
        move = spec.run(context, step, config)
        after = move
        if move.sleep_until:  # the engine runs a waiting step again when its wait is over
            after = spec.run(context.resumed(move.sleep_until), step, config)
    except DryFailure as failure:
        simulation.steps.append(_record(number, step, Move(said=failure.said)))
        simulation.ending = failure.ending
        return None
    simulation.steps.append(_record(number, step, move))
    if move.forks:
        simulation.ending = move.ending
    elif after.sleep_until:
        simulation.ending = f"Stops following at {step.key}: it would still be waiting."
    elif after.end_state:
        simulation.ending = after.ending or _ending(after)
    elif after.to is None:
        simulation.ending = "End of the journey (completed)."
    return None if simulation.ending else after.to


def _ending(move: Move) -> str:
    if move.end_state == EnrollmentState.COMPLETED:
        return "End of the journey (completed)."
    return move.reason


def _record(number: int, step: Step, move: Move) -> SimulatedStep:
    gate = move.gate
    return SimulatedStep(
        number=number,
        key=step.key,
        kind=step.kind,
        kind_label=step.get_kind_display(),
        outcome=move.said,
        edges=move.forks,
        decision=getattr(gate, "decision", ""),
        reason_code=getattr(gate, "reason_code", ""),
        reason=getattr(gate, "reason", ""),
        until=getattr(gate, "until", None),
        preview=move.preview,
    )
