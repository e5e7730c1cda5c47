"""A reply to an email Cue sent, as an ESP's inbound webhook hands it over: recorded once as
the contact's email_reply event, naming the email it answers, so that journeys, routing and
attribution see it as they see an SMS reply.

Which email it answers: the one whose Message-ID its In-Reply-To names, else the last one its
References name that is Cue's (apps.sends.email_ids; the ESP's own id counts too, for an ESP
that puts its id on the email); only when none does, the last email sent to the sender's
address. A named email counts only when the reply comes from that email's contact (the
address it went to, or the contact's email now): anyone can quote an id (a forward carries
it in References), and a stranger's mail must not become another contact's reply. Such a
reply is matched as if it named nothing, by its own sender's address."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.consent.models import Channel
from apps.contacts.events import record_event
from apps.contacts.models import EventType
from apps.core.text import text_storable
from apps.sends.email_ids import email_message_id_verify, own_id_parse, reply_ids
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
    in_reply_to: tuple[str, ...] = ()  # the header's values, as received
    references: tuple[str, ...] = ()


@transaction.atomic
def email_reply_record(*, reply: EmailReply) -> str:
    """Records the reply against the email it answers (the module's docstring says which).
    Returns what happened, for logs and tests."""
    now = timezone.now()
    received_at = min(reply.received_at or now, now)  # an ESP's clock may run ahead
    message, matched_by = email_answered(reply=reply, before=received_at)
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
            "matched_by": matched_by,
        },
    )
    return "recorded" if recorded.created else "duplicate"


def email_answered(*, reply: EmailReply, before: datetime) -> tuple[OutboundMessage | None, str]:
    """(the email the reply answers, how it was found: "in_reply_to", "references" or
    "last_email"), or (None, "") for none."""
    answering = reply_ids(in_reply_to=list(reply.in_reply_to), references=[])
    named = reply_ids(in_reply_to=list(reply.in_reply_to), references=list(reply.references))
    message, named_id = email_named(ids=named, from_address=reply.from_address)
    if message is not None:
        return message, "in_reply_to" if named_id in answering else "references"
    message = replied_email(address=reply.from_address, before=before)
    return message, "last_email" if message is not None else ""


def email_named(*, ids: list[str], from_address: str) -> tuple[OutboundMessage | None, str]:
    """The first of `ids` (in order) that names an email Cue sent to a contact at
    `from_address`, and that id; looked up in one query."""
    own = {item: parsed for item in ids if (parsed := own_id_parse(item))}
    if not ids:
        return None, ""
    esp = {sid for item in ids if item not in own for sid in _sids(item)}
    candidates = list(
        OutboundMessage.objects.filter(
            Q(pk__in=[pk for pk, _ in own.values()]) | Q(provider_sid__in=esp),
            channel=Channel.EMAIL,
            contact__isnull=False,
            sent_at__isnull=False,
        ).select_related("contact")
    )
    by_pk = {message.pk: message for message in candidates}
    by_sid = {message.provider_sid: message for message in candidates if message.provider_sid}
    for item in ids:
        message = _message_of(item, own.get(item), by_pk, by_sid)
        if message is None:
            continue
        if _from_its_contact(message, from_address):
            return message, item
        logger.info("Email from %s names message %s of another contact", from_address, message.pk)
    return None, ""


def _message_of(item: str, own: tuple[int, str] | None, by_pk: dict, by_sid: dict):
    if own is None:
        return next((by_sid[sid] for sid in _sids(item) if sid in by_sid), None)
    pk, mac = own
    message = by_pk.get(pk)
    if message is None or not email_message_id_verify(pk=pk, send_key=message.send_key, mac=mac):
        return None
    return message


def _sids(message_id: str) -> list[str]:
    """The ESP's id an ESP's Message-ID (`<id@esp-host>`) may carry, as written and in
    lower case."""
    local = message_id.rsplit("@", 1)[0]
    return list(dict.fromkeys([local, local.lower()]))


def _from_its_contact(message: OutboundMessage, from_address: str) -> bool:
    address = from_address.strip().lower()
    return address in {message.to_address.strip().lower(), (message.contact.email or "").lower()}


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
