"""Send an SMS or an email: a template through the send gate, then on, or wait for a
deferred message, or end when it may not be sent and the step says so. A text step may name
the sender or the sender pool it goes from (SENDER_HELP says how that meets stickiness)."""

from dataclasses import dataclass
from datetime import timedelta

from django import forms

from apps.contacts.phones import phone_text
from apps.journeys.models import Activity, EnrollmentState, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move
from apps.sends.models import Sender, SenderPool
from apps.sends.selectors.senders import senders_choose

DEFERRED_RECHECK = timedelta(hours=1)
ON_SUPPRESSED = [("continue", "go on to the next step"), ("exit", "end the journey")]
ON_DEFERRED = [("wait", "wait for it to go"), ("continue", "go on without waiting")]
WAITING_STATUSES = ("deferred", "held")
NOT_SENT_STATUSES = ("suppressed", "canceled", "failed")
SENDER_HELP = (
    "Who the text comes from. The default: the sender the contact last heard from (so "
    "replies stay in one thread), else the default sender. A sender named here is used "
    "for everyone, even a contact who last heard from another one. A pool keeps a contact "
    "on the sender they last heard from, and gives a new contact one of its senders "
    "(always the same one for a number)."
)


@dataclass(frozen=True)
class SendConfig(StepConfig):
    template: int | None = None
    next: str | None = None
    on_suppressed: str = "continue"  # or "exit"
    on_deferred: str = "wait"  # or "continue"
    sender: int | None = None  # a Sender's id (texts only); at most one of the two
    sender_pool: int | None = None  # a SenderPool's id


class SendSpec(StepSpec):
    """Shared by both channels; `channel` is the template channel the kind sends."""

    Config = SendConfig
    channel: str
    fieldset = "Send"
    layout = ["sms_template", "email_template", "sms_sender", ("on_suppressed", "on_deferred")]

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
        return sender_problems(config) if self.channel == "sms" else []

    def summary(self, config: SendConfig, template_names: dict) -> str:
        template = config.template
        if template in (None, ""):
            return "no template chosen"
        name = (
            template_names.get(template)
            or template_names.get(str(template))
            or f"template {template}"
        )
        sender = sender_words(config) if self.channel == "sms" else ""
        return f"{name}, {sender}" if sender else name

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
            "sms_sender": forms.ChoiceField(
                choices=sender_picker_choices,
                required=False,
                label="Send texts from",
                help_text=SENDER_HELP,
            ),
            "on_suppressed": forms.ChoiceField(
                choices=ON_SUPPRESSED, initial="continue", label="If not allowed"
            ),
            "on_deferred": forms.ChoiceField(
                choices=ON_DEFERRED, initial="wait", label="If deferred (quiet hours…)"
            ),
        }

    def builder_fields(self) -> list[str]:
        """A text step shows no email template, an email step no SMS template or sender."""
        other = "email" if self.channel == "sms" else "sms"
        return [name for name in self.form_fields() if not name.startswith(f"{other}_")]

    def config_from_form(self, cleaned: dict) -> SendConfig:
        kind, _, chosen = (cleaned.get("sms_sender") or "").partition(":")
        picked = int(chosen) if self.channel == "sms" and chosen.isdigit() else None
        return SendConfig(
            template=cleaned.get(f"{self.channel}_template"),
            next=cleaned.get("next_step") or None,
            on_suppressed=cleaned.get("on_suppressed") or "continue",
            on_deferred=cleaned.get("on_deferred") or "wait",
            sender=picked if kind == "sender" else None,
            sender_pool=picked if kind == "pool" else None,
        )

    def form_initial(self, config: SendConfig, *, own: bool) -> dict:
        initial = {"on_suppressed": config.on_suppressed, "on_deferred": config.on_deferred}
        if not own:
            return initial
        initial[f"{self.channel}_template"] = config.template
        if config.sender is not None:
            initial["sms_sender"] = f"sender:{config.sender}"
        elif config.sender_pool is not None:
            initial["sms_sender"] = f"pool:{config.sender_pool}"
        return initial

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


def sender_picker_choices() -> list[tuple[str, str]]:
    """The builder's sender picker: the senders approved for marketing, then the pools
    (read when a form is drawn, so a sender approved a minute ago is there)."""
    senders = [
        (f"sender:{sender.pk}", f"Sender: {sender}")
        for sender in Sender.objects.filter(is_active=True).order_by("name")
        if not sender.marketing_refusal()
    ]
    pools = [
        (f"pool:{pk}", f"Pool: {name}") for pk, name in SenderPool.objects.values_list("pk", "name")
    ]
    return [
        ("", "The default (the contact's last sender, else the default sender)"),
        *senders,
        *pools,
    ]


def sender_problems(config: SendConfig) -> list[str]:
    """Activation checks: a named sender exists, is active and may send marketing; a named
    pool exists and each of its active senders (one at least) may."""
    if config.sender is not None and config.sender_pool is not None:
        return ["name a sender or a sender pool, not both."]
    if not all(_is_id(value) for value in (config.sender, config.sender_pool) if value is not None):
        return ["choose the sender or the sender pool from the list."]
    if config.sender is not None:
        sender = Sender.objects.filter(pk=config.sender).first()
        if sender is None or not sender.is_active:
            return [f"sender {config.sender} does not exist or is retired: choose another."]
        return [refusal] if (refusal := sender.marketing_refusal()) else []
    if config.sender_pool is not None:
        pool = SenderPool.objects.filter(pk=config.sender_pool).first()
        if pool is None:
            return [f"sender pool {config.sender_pool} does not exist: choose another."]
        senders = list(pool.senders.filter(is_active=True))
        if not senders:
            return [f"the pool {pool.name} has no active sender."]
        return [refusal for sender in senders if (refusal := sender.marketing_refusal())]
    return []


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sender_words(config: SendConfig) -> str:
    """The step's sender in words for its summary ("" for the default choice)."""
    if not all(_is_id(value) for value in (config.sender, config.sender_pool) if value is not None):
        return "from a sender not chosen from the list"
    if config.sender is not None:
        name = Sender.objects.filter(pk=config.sender).values_list("name", flat=True).first()
        return f"from {name or f'sender {config.sender} (gone)'}"
    if config.sender_pool is not None:
        name = (
            SenderPool.objects.filter(pk=config.sender_pool).values_list("name", flat=True).first()
        )
        return f"from the pool {name or f'{config.sender_pool} (gone)'}"
    return ""


def step_senders_set(step: Step, intents: list[dict]) -> list[dict]:
    """Gives each text intent of a send step the sender the step names (or one of its pool),
    chosen once for the whole batch; a step that names none leaves the choice to
    message_create (the contact's last sender, else the default)."""
    config = SendConfig.read(step.config)
    if step.kind != StepKind.SEND_SMS or (config.sender, config.sender_pool) == (None, None):
        return intents
    sender = Sender.objects.filter(pk=config.sender).first() if _is_id(config.sender) else None
    pool = (
        SenderPool.objects.filter(pk=config.sender_pool).first()
        if _is_id(config.sender_pool)
        else None
    )
    if sender is None and pool is None:
        return intents  # gone since activation: the default choice
    addresses = [phone_text(intent["contact"].phone) for intent in intents]
    chosen = senders_choose(to_addresses=addresses, sender=sender, pool=pool)
    for intent, address in zip(intents, addresses, strict=True):
        intent["from_sender"] = chosen[address]
    return intents


class SendSmsSpec(SendSpec):
    kind = StepKind.SEND_SMS
    badge, colour = "SMS", "#dbeafe"
    channel = "sms"


class SendEmailSpec(SendSpec):
    kind = StepKind.SEND_EMAIL
    badge, colour = "EMAIL", "#e0e7ff"
    channel = "email"
