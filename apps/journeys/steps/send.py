"""Send an SMS or an email: a template through the send gate, then on, or wait for a
deferred message, or end when it may not be sent and the step says so."""

from dataclasses import dataclass
from datetime import timedelta

from django import forms

from apps.journeys.models import Activity, EnrollmentState, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move

DEFERRED_RECHECK = timedelta(hours=1)
ON_SUPPRESSED = [("continue", "go on to the next step"), ("exit", "end the journey")]
ON_DEFERRED = [("wait", "wait for it to go"), ("continue", "go on without waiting")]
WAITING_STATUSES = ("deferred", "held")
NOT_SENT_STATUSES = ("suppressed", "canceled", "failed")


@dataclass(frozen=True)
class SendConfig(StepConfig):
    template: int | None = None
    next: str | None = None
    on_suppressed: str = "continue"  # or "exit"
    on_deferred: str = "wait"  # or "continue"


class SendSpec(StepSpec):
    """Shared by both channels; `channel` is the template channel the kind sends."""

    Config = SendConfig
    channel: str
    fieldset = "Send"
    layout = ["sms_template", "email_template", ("on_suppressed", "on_deferred")]

    def edges(self, config: SendConfig) -> list[tuple[str, str | None]]:
        return [("next", config.next)]

    def problems(self, step: Step, config: SendConfig) -> list[str]:
        from apps.library.models import MessageTemplate

        template = MessageTemplate.objects.filter(pk=config.template).first()
        if template is None:
            return ["choose a template."]
        if template.channel != self.channel:
            return [f"{template.name} is an {template.channel} template, not {self.channel}."]
        version = template.current_version
        if version is None or version.status != "approved":
            return [f"{template.name} has no approved version yet."]
        return []

    def summary(self, config: SendConfig, template_names: dict) -> str:
        template = config.template
        if template in (None, ""):
            return "no template chosen"
        return (
            template_names.get(template)
            or template_names.get(str(template))
            or f"template {template}"
        )

    def template_id(self, config: SendConfig) -> int | None:
        return config.template if isinstance(config.template, int) else None

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "sms_template": forms.TypedChoiceField(
                coerce=int, empty_value=None, required=False, label="SMS template"
            ),
            "email_template": forms.TypedChoiceField(
                coerce=int, empty_value=None, required=False, label="Email template"
            ),
            "on_suppressed": forms.ChoiceField(
                choices=ON_SUPPRESSED, initial="continue", label="If not allowed"
            ),
            "on_deferred": forms.ChoiceField(
                choices=ON_DEFERRED, initial="wait", label="If deferred (quiet hours…)"
            ),
        }

    def config_from_form(self, cleaned: dict) -> SendConfig:
        return SendConfig(
            template=cleaned.get(f"{self.channel}_template"),
            next=cleaned.get("next_step") or None,
            on_suppressed=cleaned.get("on_suppressed") or "continue",
            on_deferred=cleaned.get("on_deferred") or "wait",
        )

    def form_initial(self, config: SendConfig, *, own: bool) -> dict:
        initial = {"on_suppressed": config.on_suppressed, "on_deferred": config.on_deferred}
        return {**initial, f"{self.channel}_template": config.template} if own else initial

    def run(self, context, step: Step, config: SendConfig) -> Move:
        if context.holdout:
            context.log(step, Activity.Kind.DECISION, "In the holdout group: not messaged.")
            return edge_move(config.next, "", said="In the holdout: not messaged.")
        message = context.message_send(step, config.template)
        context.log(
            step,
            Activity.Kind.MESSAGE,
            f"Message {message.pk}: {message.status}. {message.reason}",
            message_id=message.pk,
            status=message.status,
            reason_code=message.reason_code,
        )
        return self._after_send(context, config, message)

    def _after_send(self, context, config: SendConfig, message) -> Move:
        words = _words(message, config) if context.dry else {}
        if message.reason_code == "journey_goal":
            # The gate found a goal event whose hand-off has not run yet: nothing follows.
            return Move(end_state=EnrollmentState.GOAL_REACHED, reason=message.reason, **words)
        if message.status in WAITING_STATUSES and config.on_deferred == "wait":
            # Wake after the sweep had its chance to release it, not in a tight loop before.
            now = context.now
            until = max(
                message.next_attempt_at or now + DEFERRED_RECHECK, now + timedelta(minutes=1)
            )
            return Move(
                sleep_until=until,
                reason=f"Waiting for the deferred message ({message.reason_code}).",
                **words,
            )
        if message.status in NOT_SENT_STATUSES and config.on_suppressed == "exit":
            return Move(
                end_state=EnrollmentState.SUPPRESSED,
                reason=f"Message not sent: {message.reason}",
                ending=f"Ends (suppressed): {message.reason}",
                **{**words, "preview": ""},
            )
        move = edge_move(config.next, "")
        return Move(to=move.to, end_state=move.end_state, reason=move.reason, **words)


def _words(message, config: SendConfig) -> dict:
    """The simulator's account of the gate's decision (a dry message carries its name)."""
    name = message.name
    if message.status in WAITING_STATUSES:
        verb = "Deferred" if message.status == "deferred" else "Held"
        said = f"{verb}: {name} would not go now. {message.reason}"
        if config.on_deferred == "wait":
            said += " The contact waits here for it, then goes on."
    elif message.status in NOT_SENT_STATUSES:
        said = f"Suppressed: {name} would not be sent. {message.reason}"
    else:
        said = f"Sends {name} now."
    return {"said": said, "gate": message.gate, "preview": message.preview}


class SendSmsSpec(SendSpec):
    kind = StepKind.SEND_SMS
    badge, colour = "SMS", "#dbeafe"
    channel = "sms"


class SendEmailSpec(SendSpec):
    kind = StepKind.SEND_EMAIL
    badge, colour = "EMAIL", "#e0e7ff"
    channel = "email"
