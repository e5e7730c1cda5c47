"""The walk: each step run by the engine's own logic (its kind's spec) in a dry context, for
one contact, as of now."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from apps.contacts.models import Contact
from apps.journeys.models import Journey, JourneyStatus
from apps.journeys.simulator.described import ContactDescription, described_gate
from apps.journeys.simulator.dry import DryContext
from apps.journeys.simulator.entry import EntryCheck, Subject, entry_checks
from apps.journeys.simulator.follow import SimulatedStep, Walker
from apps.journeys.steps import step_template_id
from apps.library.models import MessageTemplate
from apps.sends.policy import gate_evaluate
from apps.sends.quiet_hours.zones import candidate_zones


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
    contact_zones: list[str] = field(default_factory=list)  # where the gate places them

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
    choices: dict[str, str] | None = None,
) -> Simulation:
    """The path a saved `contact`, or one built from `description`, would take now.
    With `choices` ({step key: the edge to follow there}, may be empty) one path is
    followed, each step at the time it would run; without, every way a path divides."""
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
        contact_zones=_zones_of(subject.contact),
    )
    if not simulation.enters:
        failed = next(check for check in checks if not check.passed)
        simulation.ending = f"Does not enter: {failed.detail}"
        return simulation
    _walk(simulation, _Run(journey, subject, holdout, choices))
    return simulation


def _zones_of(contact: Contact) -> list[str]:
    """The zones the send gate would place the contact in (one when it is known)."""
    zones, _ = candidate_zones(
        time_zone=contact.time_zone,
        region=contact.region,
        country=contact.country or "US",
        phone_e164=str(contact.phone) if contact.phone else None,
    )
    return [zone.key for zone in zones]


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

    def __init__(self, journey: Journey, subject: Subject, holdout: bool, choices=None):
        self.journey, self.subject, self.holdout = journey, subject, holdout
        self.choices = None if choices is None else dict(choices)
        self.asked: set[str] = set()  # the steps whose way out was (or may be) chosen
        # The live version's steps: what would happen now (a draft's are not what runs).
        version = journey.live_version or journey.version_shown()
        self.version = version
        self.steps = {step.key: step for step in (version.steps.all() if version else [])}
        ids = [pk for step in self.steps.values() if (pk := step_template_id(step)) is not None]
        self.templates = MessageTemplate.objects.select_related("current_version").in_bulk(ids)

    def gate(self, message, at: datetime):
        if self.subject.saved:
            return gate_evaluate(message=message, at=at)
        return described_gate(message, at, self.subject.description)


def _walk(simulation: Simulation, run: _Run) -> None:
    if not run.journey.first_step_id:
        simulation.ending = "The journey has no first step."
        return
    walker = Walker(run.steps, DryContext(run, run.subject.now))
    simulation.steps, simulation.ending = walker.follow(run.journey.first_step.key)
