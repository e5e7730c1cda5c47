"""A reply to an email Cue sent, as an ESP's inbound webhook hands it over: recorded once as
the contact's email_reply event, naming the email it answers, so that journeys, routing and
attribution see it as they see an SMS reply."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.consent.models import Channel
from apps.contacts.events import record_event
from apps.contacts.models import EventType
from apps.core.text import text_storable
from apps.sends.models import MessageOrigin, OutboundMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailReply:
    """One inbound email, as anymail normalised it. `event_id` is the ESP's id for it (or
    its Message-ID header), which makes a repeated webhook a duplicate."""

    esp: str
    from_address: str
    event_id: str
    received_at: datetime | None = None
    subject: str = ""


@transaction.atomic
def email_reply_record(*, reply: EmailReply) -> str:
    """Records the reply against the last email sent to its sender's address before it came
    (as an SMS opt-out answers the last text): an inbound email quotes no id Cue can trust.
    Returns what happened, for logs and tests."""
    now = timezone.now()
    received_at = min(reply.received_at or now, now)  # an ESP's clock may run ahead
    message = replied_email(address=reply.from_address, before=received_at)
    if message is None:
        logger.info("Email from %s answers no email of ours", reply.from_address)
        return "unknown_sender"
    recorded = record_event(
        contact=message.contact,
        type=EventType.EMAIL_REPLY,
        occurred_at=received_at,
        idempotency_key=f"email-reply:{reply.esp}:{reply.event_id}"[:200],
        source=Channel.EMAIL,
        properties={
            "message_id": message.pk,
            "journey_id": message.journey_id,
            "subject": text_storable(reply.subject)[:300],
        },
    )
    return "recorded" if recorded.created else "duplicate"


def replied_email(*, address: str, before: datetime) -> OutboundMessage | None:
    """The last email to a contact at `address` that went out no later than `before`."""
    return (
        OutboundMessage.objects.filter(
            channel=Channel.EMAIL,
            to_address__iexact=address.strip(),
            contact__isnull=False,
            sent_at__lte=before,
        )
        .exclude(origin=MessageOrigin.KEYWORD_REPLY)
        .order_by("-sent_at", "-pk")
        .first()
    )
