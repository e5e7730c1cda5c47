"""A send step, simulated: an UNSAVED message handed to the send gate, and what the engine
would do with the gate's decision."""

from apps.consent.models import Channel
from apps.journeys.models import Step, StepKind
from apps.journeys.simulator.move import Move
from apps.library.placeholders import template_render
from apps.sends.models import Decision, MessageOrigin, OutboundMessage


def send_simulate(run, step: Step, to: str | None) -> Move:
    config = step.config or {}
    if run.holdout:
        return Move("In the holdout: not messaged.", to=to)
    template = run.templates.get(config.get("template"))
    version = template.current_version if template is not None else None
    if version is None or version.status != "approved":
        return Move("No approved template.", end="The engine would fail on this step.")
    channel = Channel.SMS if step.kind == StepKind.SEND_SMS else Channel.EMAIL
    contact = run.subject.contact
    if channel == Channel.SMS:
        address = str(contact.phone) if contact.phone else ""
    else:
        address = contact.email
    if not address:
        noun = "phone number" if channel == Channel.SMS else "email address"
        return Move(f"The contact has no {noun}.", end="The engine would fail on this step.")
    message = OutboundMessage(
        send_key="simulation",
        origin=MessageOrigin.JOURNEY,
        category=template.category,
        channel=channel,
        contact=contact,
        to_address=address,
        template_version=version,
        journey_id=run.journey.pk,
    )
    result = run.gate(message)
    preview = template_render(version=version, contact=contact)
    text = f"{preview.subject}\n\n{preview.body}" if preview.subject else preview.body
    return _after_gate(result, config, f"“{template.name}”", to, text)


def _after_gate(result, config: dict, name: str, to: str | None, preview: str) -> Move:
    """As the engine's _after_send: wait for a deferred message, or exit on a suppressed one
    when the step says so."""
    if result.decision == Decision.ALLOW:
        return Move(f"Sends {name} now.", to=to, gate=result, preview=preview)
    if result.decision in (Decision.DEFER, Decision.HOLD):
        verb = "Deferred" if result.decision == Decision.DEFER else "Held"
        outcome = f"{verb}: {name} would not go now. {result.reason}"
        if config.get("on_deferred", "wait") == "wait":
            outcome += " The contact waits here for it, then goes on."
        return Move(outcome, to=to, gate=result, preview=preview)
    outcome = f"Suppressed: {name} would not be sent. {result.reason}"
    if config.get("on_suppressed") == "exit":
        return Move(outcome, end=f"Ends (suppressed): {result.reason}", gate=result)
    return Move(outcome, to=to, gate=result, preview=preview)
