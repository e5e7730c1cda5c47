"""The simulator's step context: the engine's runs, dry. It answers what can be known now
(the contact's segment rules, the send gate's decision on an UNSAVED message) and writes
nothing: no message, no task, no stage, no activity. What only the future can answer (will
the event happen, will the message be clicked) comes back as UNKNOWN, unless the marketer
chose the outcome to follow at that step (the walk's `choices`): then the answer is the one
that leads along the chosen edge (a yes leads along a step's first edge)."""

from dataclasses import dataclass, replace
from datetime import datetime

from apps.consent.models import Channel
from apps.contacts.segments import SegmentRulesError
from apps.contacts.stages import lifecycle_keys
from apps.journeys.models import Step, StepKind
from apps.journeys.steps import UNKNOWN
from apps.library.placeholders import template_render
from apps.sends.models import Decision, MessageOrigin, OutboundMessage

STATUS_BY_DECISION = {
    Decision.ALLOW: "queued",
    Decision.DEFER: "deferred",
    Decision.HOLD: "held",
    Decision.SUPPRESS: "suppressed",
}


class DryFailure(Exception):
    """The engine would fail on this step: what the simulator says, and how the path ends."""

    def __init__(self, said: str, ending: str):
        super().__init__(said)
        self.said, self.ending = said, ending


@dataclass(frozen=True)
class DrySend:
    """A message as the gate would decide it now; nothing is saved."""

    status: str
    reason: str
    reason_code: str
    next_attempt_at: datetime | None
    name: str
    gate: object = None
    preview: str = ""
    pk: None = None


@dataclass(frozen=True)
class DryEvent:
    """The event a chosen path says happened, when the step asked."""

    type: str
    occurred_at: datetime


@dataclass(frozen=True)
class DryContext:
    """`run` is the walk's shared state (journey, subject, templates, gate, choices); `now`
    moves to ask a waiting step where it goes once its wait is over (`resumed`), and along
    a chosen path to when each step runs (`at`)."""

    run: object
    now: datetime
    waited: bool = False
    dry: bool = True
    step_key: str = ""  # the step being run
    step_edges: tuple[str, ...] = ()  # its edges' labels, first one first
    entered: datetime | None = None  # when the chosen path reaches the step

    @property
    def holdout(self) -> bool:
        return self.run.holdout

    @property
    def journey(self):
        return self.run.journey

    @property
    def settings(self):
        """The goal and rules of the version walked (the live one)."""
        return self.run.version or self.run.journey

    @property
    def contact(self):
        return self.run.subject.contact

    def resumed(self, until: datetime) -> "DryContext":
        return replace(self, now=until, waited=True)

    def at(self, step: Step, edges: tuple[str, ...], now: datetime) -> "DryContext":
        """The context for running `step`, reached at `now`."""
        return replace(self, step_key=step.key, step_edges=edges, now=now, entered=now)

    def entered_at(self) -> datetime:
        return self.entered or self.run.subject.now

    def _choosing(self) -> bool:
        """One path is followed, by the marketer's choices (else every way is)."""
        return self.run.choices is not None

    def _yes(self, known: bool | None = None) -> bool:
        """The answer leading along the edge chosen at this step: the known answer, else
        the first edge, when nothing was chosen here."""
        self.run.asked.add(self.step_key)
        chosen = self.run.choices.get(self.step_key)
        if chosen not in self.step_edges:
            return True if known is None else known
        return chosen == self.step_edges[0]

    def visit(self, step: Step) -> int:
        return 1

    def trigger_properties(self) -> dict | None:
        return self.run.subject.event_properties

    def log(self, step: Step, kind: str, reason: str, **detail) -> None:
        return None

    def message_send(self, step: Step, template_id) -> DrySend:
        template = self.run.templates.get(template_id)
        version = template.current_version if template is not None else None
        if version is None or version.status != "approved":
            raise DryFailure("No approved template.", "The engine would fail on this step.")
        name = f"“{template.name}”"
        if self.waited:  # asked again after waiting for it: it has gone out by then
            return DrySend("sent", "", "", None, name)
        message = self._message(step, template, version)
        result = self.run.gate(message, self.now)
        preview = template_render(version=version, contact=message.contact)
        text = f"{preview.subject}\n\n{preview.body}" if preview.subject else preview.body
        return DrySend(
            status=STATUS_BY_DECISION[result.decision],
            reason=result.reason,
            reason_code=result.reason_code,
            next_attempt_at=getattr(result, "until", None),
            name=name,
            gate=result,
            preview=text,
        )

    def _message(self, step: Step, template, version) -> OutboundMessage:
        channel = Channel.SMS if step.kind == StepKind.SEND_SMS else Channel.EMAIL
        contact = self.contact
        if channel == Channel.SMS:
            address = str(contact.phone) if contact.phone else ""
        else:
            address = contact.email
        if not address:
            noun = "phone number" if channel == Channel.SMS else "email address"
            raise DryFailure(f"The contact has no {noun}.", "The engine would fail on this step.")
        return OutboundMessage(
            send_key="simulation",
            origin=MessageOrigin.JOURNEY,
            category=template.category,
            channel=channel,
            contact=contact,
            to_address=address,
            template_version=version,
            journey_id=self.journey.pk,
        )

    def event_since(self, types: list[str], since: datetime):
        if not self._choosing():
            return UNKNOWN
        if not self._yes():
            return None
        return DryEvent(type=(types or ["the event"])[0], occurred_at=self.now)

    def rules_hold(self, rules: dict) -> bool:
        try:
            holds = self.run.subject.rules_hold(rules)
        except SegmentRulesError as error:
            raise DryFailure(
                f"Its rules are invalid: {error}", "The engine would fail here."
            ) from error
        return self._yes(known=holds) if self._choosing() else holds

    def step_outcome(self, step_key: str, outcome: str):
        return self._yes() if self._choosing() else UNKNOWN

    def variant_choose(self, step: Step, variants: list[dict]) -> str:
        if not variants:
            raise DryFailure("A split with no variants.", "The engine would end the journey here.")
        names = [variant.get("name") for variant in variants]
        if self._choosing():
            self.run.asked.add(step.key)
            chosen = self.run.choices.get(step.key)
            return chosen if chosen in names else names[0]
        return names[0]

    def task_create(self, step: Step, reason: str) -> None:
        return None

    def stage_set(self, stage: str) -> None:
        if stage not in lifecycle_keys():
            named = stage or ""  # an unset stage reads as empty, as in the builder
            raise DryFailure(f"{named!r} is not a lifecycle stage.", "The engine would fail here.")
