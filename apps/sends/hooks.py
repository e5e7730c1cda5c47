"""What sends tells the apps above it: a message's outcome, a person's click, a reply.

Higher apps (routing's webhooks, the CRM connectors) register here from `AppConfig.ready()`;
see `apps.core.hooks` for when handlers run and what a failing one does. Each hook fires once
per change, inside the transaction that records it:

- message outcome: a message reached sent, delivered, undelivered or failed (dispatch, the
  status webhook, reconciliation), or ended unsent: canceled (an opt-out, a goal, an expired
  hold) or suppressed by the gate. The pipeline's own steps (deferred, held, queued,
  sending) are not reported. A repeated or late status callback changes nothing, so it
  fires nothing.
- link click: a person's click on a tracked link (a link-preview bot's fetch is not one).
- reply: an inbound text, with how it was classified and what Cue did with it, fired when
  it is acted on: a keyword (STOP, START, HELP, YES) in the webhook's own request, any
  other text when the worker hands it on (so the webhook's hot path does no more work).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from apps.core.hooks import Hook, Listening
from apps.sends.models import InboundMessage, LinkClick, MessageStatus, OutboundMessage

OUTCOME_STATUSES = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.CANCELED,
        MessageStatus.SUPPRESSED,
    }
)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Which message, to whom, and from which journey step and template version."""

    message_id: int
    contact_id: int | None
    channel: str
    origin: str
    category: str
    journey_id: int | None
    enrollment_id: int | None
    step_id: int | None
    template_id: int | None
    template_name: str
    template_version_id: int | None
    template_version_number: int | None


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    message: MessageFacts
    status: str
    at: datetime
    provider_sid: str
    error_code: str
    error_message: str
    reason_code: str  # why a message ended unsent (e.g. opted_out, held_expired)

    @property
    def key(self) -> str:
        return f"message:{self.message.message_id}:{self.status}"


@dataclass(frozen=True, slots=True)
class LinkClicked:
    click_id: int
    message: MessageFacts
    link_key: str
    is_key_link: bool
    destination: str
    at: datetime

    @property
    def key(self) -> str:
        return f"click:{self.click_id}"


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    inbound_id: int
    contact_id: int | None
    from_address: str
    to_address: str
    body: str
    received_at: datetime
    keyword_kind: str  # opt_out, opt_in, confirm, help or none
    keyword: str
    classification_rule: str
    outcome: str  # what Cue did with it
    in_reply_to: MessageFacts | None  # the last message sent to that number

    @property
    def key(self) -> str:
        return f"reply:{self.inbound_id}"


message_outcome_hook: Hook[MessageOutcome] = Hook("sends.message_outcome")
link_click_hook: Hook[LinkClicked] = Hook("sends.link_click")
reply_hook: Hook[ReplyReceived] = Hook("sends.reply")


def message_outcome_handler_register(
    name: str,
    handler: Callable[[list[MessageOutcome]], None],
    *,
    listening: Listening | None = None,
) -> None:
    message_outcome_hook.register(name, handler, listening=listening)


def link_click_handler_register(
    name: str, handler: Callable[[list[LinkClicked]], None], *, listening: Listening | None = None
) -> None:
    link_click_hook.register(name, handler, listening=listening)


def reply_handler_register(
    name: str, handler: Callable[[list[ReplyReceived]], None], *, listening: Listening | None = None
) -> None:
    reply_hook.register(name, handler, listening=listening)


# --- Firing: each reads what its records need in one query, and only if someone listens ---


def message_outcomes_fire(message_ids: Iterable[int]) -> None:
    """The messages' current status (the one just written) is their outcome."""
    ids = list(message_ids)
    if ids:
        message_outcome_hook.fire(lambda: _outcomes_read(ids))


def link_click_fire(click: LinkClick) -> None:
    link_click_hook.fire(lambda: [_click_read(click)])


def reply_fire(inbound: InboundMessage, in_reply_to: Callable[[], OutboundMessage | None]) -> None:
    """`in_reply_to()` finds the message the text answers; it is asked only if someone
    listens."""
    reply_hook.fire(lambda: [_reply_read(inbound, in_reply_to())])


_FACT_FIELDS = (
    "pk",
    "contact_id",
    "channel",
    "origin",
    "category",
    "journey_id",
    "enrollment_id",
    "step_id",
    "template_version__template_id",
    "template_version__template__name",
    "template_version_id",
    "template_version__number",
)
_OUTCOME_FIELDS = (
    "status",
    "sent_at",
    "delivered_at",
    "finished_at",
    "provider_sid",
    "error_code",
    "error_message",
    "reason_code",
)
_ENDED_UNSENT = {MessageStatus.CANCELED, MessageStatus.SUPPRESSED}
_NOT_DELIVERED = {MessageStatus.FAILED, MessageStatus.UNDELIVERED}
_AT_FOR = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
}


def _facts(row: dict) -> MessageFacts:
    return MessageFacts(
        message_id=row["pk"],
        contact_id=row["contact_id"],
        channel=row["channel"],
        origin=row["origin"],
        category=row["category"],
        journey_id=row["journey_id"],
        enrollment_id=row["enrollment_id"],
        step_id=row["step_id"],
        template_id=row["template_version__template_id"],
        template_name=row["template_version__template__name"] or "",
        template_version_id=row["template_version_id"],
        template_version_number=row["template_version__number"],
    )


def _outcomes_read(ids: list[int]) -> list[MessageOutcome]:
    rows = OutboundMessage.objects.filter(pk__in=ids).order_by("pk")
    fields = rows.values(*_FACT_FIELDS, *_OUTCOME_FIELDS)
    return [_outcome(row) for row in fields if row["status"] in OUTCOME_STATUSES]


def _outcome(row: dict) -> MessageOutcome:
    # An error stays on the row after a retry succeeds, and the gate's reason on a message
    # it allowed: each is reported only with the outcome it explains.
    status = row["status"]
    failed = status in _NOT_DELIVERED
    return MessageOutcome(
        message=_facts(row),
        status=status,
        at=row[_AT_FOR.get(status, "finished_at")],
        provider_sid=row["provider_sid"] or "",
        error_code=row["error_code"] if failed else "",
        error_message=row["error_message"] if failed else "",
        reason_code=row["reason_code"] if status in _ENDED_UNSENT else "",
    )


def message_facts(message_id: int) -> MessageFacts | None:
    row = OutboundMessage.objects.filter(pk=message_id).values(*_FACT_FIELDS).first()
    return _facts(row) if row else None


def _click_read(click: LinkClick) -> LinkClicked:
    link = click.link
    return LinkClicked(
        click_id=click.pk,
        message=message_facts(link.message_id),
        link_key=link.key,
        is_key_link=link.is_key_link,
        destination=link.destination,
        at=click.at,
    )


def _reply_read(inbound: InboundMessage, in_reply_to: OutboundMessage | None) -> ReplyReceived:
    return ReplyReceived(
        inbound_id=inbound.pk,
        contact_id=inbound.contact_id,
        from_address=inbound.from_address,
        to_address=inbound.to_address,
        body=inbound.body,
        received_at=inbound.received_at,
        keyword_kind=inbound.keyword_kind,
        keyword=inbound.keyword,
        classification_rule=inbound.classification_rule,
        outcome=inbound.outcome,
        in_reply_to=message_facts(in_reply_to.pk) if in_reply_to else None,
    )
