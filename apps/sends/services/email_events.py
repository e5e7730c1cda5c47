"""What an email service provider's tracking webhook tells about an email Cue sent, recorded
once per event. A hard bounce, a complaint or an unsubscribe ends email to the address at
once; a soft bounce sends the email again later, until too many in a row end it too. Opens
are recorded but marked unreliable: mail clients (Apple Mail Privacy Protection) fetch
images for the reader, so an open is no proof anyone read the email."""

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.consent.models import Channel, ConsentSource, Suppression
from apps.consent.services import Evidence, consent_revoke_channel, suppression_add
from apps.contacts.events import record_event
from apps.contacts.models import EventType
from apps.sends.models import MessageEvent, MessageStatus, OutboundMessage
from apps.sends.services.messages import messages_cancel_to_address
from apps.sends.services.outcomes import status_forward

logger = logging.getLogger(__name__)

SOFT_BOUNCE_BACKOFF = timedelta(minutes=30)  # 30 min, 1 h, 2 h, …


class EmailEventKind(enum.StrEnum):
    DELIVERED = "delivered"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBED = "unsubscribed"
    OPENED = "opened"
    CLICKED = "clicked"


@dataclass(frozen=True)
class EmailEvent:
    """One tracking event, as anymail normalised it. `message_id` is Cue's own id, which
    the ESP hands back as metadata; `provider_id` is the ESP's id for the email."""

    kind: EmailEventKind
    esp: str
    provider_id: str | None = None
    message_id: int | None = None
    event_id: str | None = None
    occurred_at: datetime | None = None
    description: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        if self.event_id:
            return f"email:{self.esp}:{self.event_id}"[:200]
        at = self.occurred_at.isoformat() if self.occurred_at else ""
        return f"email:{self.esp}:{self.kind}:{self.provider_id}:{at}"[:200]


def email_event_record(*, event: EmailEvent) -> str:
    """Records the event once and acts on it. Returns what happened, for logs and tests."""
    message = _message_of(event)
    if message is None:
        logger.info("Email event %s for no message of ours (%s)", event.kind, event.provider_id)
        return "unknown_message"
    with transaction.atomic():
        if not _event_log(message, event):
            return "duplicate"
        _RESPONSES[event.kind](message, event)
    return str(event.kind)


def _message_of(event: EmailEvent) -> OutboundMessage | None:
    messages = OutboundMessage.objects.select_related("contact").filter(channel=Channel.EMAIL)
    if event.message_id is not None:
        return messages.filter(pk=event.message_id).first()
    if event.provider_id:
        return messages.filter(provider_sid=event.provider_id).first()
    return None


def _event_log(message: OutboundMessage, event: EmailEvent) -> bool:
    """The dedupe key is unique: a repeated webhook finds its event already there."""
    detail = {"email_event": str(event.kind), "esp": event.esp, **event.detail}
    if event.kind == EmailEventKind.OPENED:
        detail["reliable"] = False  # image pre-fetching opens emails nobody read
    if event.description:
        detail["description"] = event.description[:300]
    try:
        with transaction.atomic():
            MessageEvent.objects.create(
                message=message,
                kind=MessageEvent.Kind.PROVIDER,
                status=message.status,
                detail=detail,
                dedupe_key=event.dedupe_key,
            )
    except IntegrityError:
        return False
    return True


def _delivered(message: OutboundMessage, event: EmailEvent) -> None:
    status_forward(message_id=message.pk, status=MessageStatus.DELIVERED)


def _hard_bounce(message: OutboundMessage, event: EmailEvent) -> None:
    _failed(message, code="hard_bounce", text=event.description or "Hard bounce")
    _address_end(message, reason=Suppression.Reason.HARD_BOUNCE, note=_note(message, event))


def _soft_bounce(message: OutboundMessage, event: EmailEvent) -> None:
    """Sent again later through the gate (the sweep releases deferred messages when due),
    until EMAIL_SOFT_BOUNCE_LIMIT soft bounces in a row end email to the address."""
    count = soft_bounces_in_a_row(address=message.to_address)
    if count >= settings.EMAIL_SOFT_BOUNCE_LIMIT:
        _failed(message, code="soft_bounces", text=f"{count} soft bounces in a row")
        _address_end(message, reason=Suppression.Reason.SOFT_BOUNCES, note=_note(message, event))
        return
    # The one step back a status takes: the ESP says this email never arrived.
    OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENT).update(
        status=MessageStatus.DEFERRED,
        next_attempt_at=timezone.now() + SOFT_BOUNCE_BACKOFF * 2 ** (count - 1),
        reason_code="soft_bounce",
        reason=(event.description or "The recipient's server refused it for now")[:300],
    )


def _complaint(message: OutboundMessage, event: EmailEvent) -> None:
    _address_end(
        message, reason=Suppression.Reason.COMPLAINT, note=_note(message, event), revoke=True
    )


def _unsubscribed(message: OutboundMessage, event: EmailEvent) -> None:
    _address_end(
        message,
        reason=Suppression.Reason.EMAIL_UNSUBSCRIBE,
        note=_note(message, event),
        revoke=True,
    )


def _opened(message: OutboundMessage, event: EmailEvent) -> None:
    _contact_event(message, event, EventType.EMAIL_OPEN, {"reliable": False})


def _clicked(message: OutboundMessage, event: EmailEvent) -> None:
    """Kept in the message's log only: Cue's own tracked links (bot-filtered) make the
    email_click events, so an ESP's click tracking would count the same click twice."""


_RESPONSES = {
    EmailEventKind.DELIVERED: _delivered,
    EmailEventKind.HARD_BOUNCE: _hard_bounce,
    EmailEventKind.SOFT_BOUNCE: _soft_bounce,
    EmailEventKind.COMPLAINT: _complaint,
    EmailEventKind.UNSUBSCRIBED: _unsubscribed,
    EmailEventKind.OPENED: _opened,
    EmailEventKind.CLICKED: _clicked,
}


def soft_bounces_in_a_row(*, address: str) -> int:
    """Soft bounces of email to the address since it last took one."""
    events = MessageEvent.objects.filter(
        message__channel=Channel.EMAIL, message__to_address=address, kind=MessageEvent.Kind.PROVIDER
    )
    last_delivery = (
        events.filter(detail__email_event=EmailEventKind.DELIVERED.value)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    bounces = events.filter(detail__email_event=EmailEventKind.SOFT_BOUNCE.value)
    if last_delivery is not None:
        bounces = bounces.filter(at__gt=last_delivery)
    return bounces.count()


def _failed(message: OutboundMessage, *, code: str, text: str) -> None:
    status_forward(
        message_id=message.pk,
        status=MessageStatus.FAILED,
        error_code=code,
        error_message=text[:500],
    )


def _address_end(message: OutboundMessage, *, reason: str, note: str, revoke: bool = False):
    """Suppresses the address itself (whoever has it next), cancels what waits for it and,
    for the recipient's own no (a complaint, an unsubscribe), ends their email consent in
    the ledger. A bounce says nothing about consent, so it stays out of the ledger."""
    suppression_add(
        address=message.to_address,
        channel=Channel.EMAIL,
        reason=reason,
        source=ConsentSource.EMAIL_PROVIDER,
        contact=message.contact,
        note=note,
    )
    if revoke and message.contact is not None:
        consent_revoke_channel(
            contact=message.contact,
            channel=Channel.EMAIL,
            source=ConsentSource.EMAIL_PROVIDER,
            evidence=Evidence(note=note),
        )
    messages_cancel_to_address(
        address=message.to_address,
        reason_code="email_suppressed",
        reason=f"Email to this address ended: {Suppression.Reason(reason).label}.",
    )


def _contact_event(message: OutboundMessage, event: EmailEvent, type: str, properties: dict):
    if message.contact is None:
        return
    now = timezone.now()
    record_event(
        contact=message.contact,
        type=type,
        occurred_at=min(event.occurred_at or now, now),  # an ESP's clock may run ahead
        idempotency_key=event.dedupe_key,
        source=Channel.EMAIL,
        properties={"message_id": message.pk, "journey_id": message.journey_id, **properties},
    )


def _note(message: OutboundMessage, event: EmailEvent) -> str:
    text = event.description or str(event.kind)
    return f"{event.esp}: {text} (email {message.pk})"[:500]
