"""anymail's tracking and inbound signals, its integration API for every ESP's webhooks:
anymail's own views verify each request (basic auth, the ESP's signature) and normalise the
event; these receivers only name what it means to Cue and hand it to the services."""

import hashlib

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType

from apps.sends.services.email_events import EmailEvent, EmailEventKind, email_event_record
from apps.sends.services.email_replies import EmailReply, email_reply_record
from apps.sends.transports.email import METADATA_KEY

KINDS = {
    EventType.DELIVERED: EmailEventKind.DELIVERED,
    EventType.BOUNCED: EmailEventKind.HARD_BOUNCE,
    EventType.COMPLAINED: EmailEventKind.COMPLAINT,
    EventType.UNSUBSCRIBED: EmailEventKind.UNSUBSCRIBED,
    EventType.OPENED: EmailEventKind.OPENED,
    EventType.CLICKED: EmailEventKind.CLICKED,
}


def inbound_view_refusing_unparsable(view_class: type) -> type:
    """anymail's inbound view for an ESP, answering 400 where anymail cannot build the
    email from the ESP's fields: Python's email package raises ValueError on a header value
    holding a line break (an injection attempt in the payload), which is a bad request, not a
    server error. Nothing is recorded for it."""

    def parse_events(self, request):
        try:
            return view_class.parse_events(self, request)
        except ValueError as error:
            raise AnymailWebhookValidationFailure(f"Unparsable inbound email: {error}") from error

    return type(view_class.__name__, (view_class,), {"parse_events": parse_events})


# anymail reports these ESPs' temporary bounces as "bounced"; their own field tells.
SOFT_BOUNCES = {"Postmark": ("Type", {"SoftBounce"}), "SendGrid": ("type", {"blocked"})}


def email_tracking_receive(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    kind = email_event_kind(event, esp_name)
    if kind is None:  # queued, sent, deferred …: the ESP is still at work
        return
    email_event_record(
        event=EmailEvent(
            kind=kind,
            esp=esp_name,
            provider_id=event.message_id if isinstance(event.message_id, str) else None,
            message_id=_cue_message_id(event.metadata),
            event_id=event.event_id,
            occurred_at=event.timestamp,
            description=event.description or event.mta_response or "",
            detail={"click_url": event.click_url[:500]} if event.click_url else {},
        )
    )


def email_event_kind(event: AnymailTrackingEvent, esp_name: str) -> EmailEventKind | None:
    kind = KINDS.get(event.event_type)
    field, soft_types = SOFT_BOUNCES.get(esp_name, ("", set()))
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    if kind == EmailEventKind.HARD_BOUNCE and esp_event.get(field) in soft_types:
        return EmailEventKind.SOFT_BOUNCE
    return kind


def _cue_message_id(metadata: dict | None) -> int | None:
    value = (metadata or {}).get(METADATA_KEY)
    return int(value) if str(value or "").isdigit() else None


def email_inbound_receive(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    """A reply to one of Cue's emails (an inbound email with no sender is nobody's, and one
    the ESP marked as spam is nobody's reply)."""
    message = event.message
    sender_address = message.from_email.addr_spec if message and message.from_email else ""
    if not sender_address or getattr(message, "spam_detected", False):
        return
    email_reply_record(
        reply=EmailReply(
            esp=esp_name,
            from_address=sender_address,
            event_id=_inbound_id(event),
            received_at=event.timestamp,
            subject=message.subject or "",
            in_reply_to=_header_values(message, "In-Reply-To"),
            references=_header_values(message, "References"),
        )
    )


def _header_values(message, name: str) -> tuple[str, ...]:
    return tuple(str(value) for value in message.get_all(name) or [])


def _inbound_id(event: AnymailInboundEvent) -> str:
    """The ESP's id for the email, else its Message-ID header, else a digest of the mail."""
    if event.event_id:
        return str(event.event_id)
    header = event.message.get("Message-ID") if event.message else None
    if header:
        return str(header)
    return hashlib.sha256(event.message.as_bytes()).hexdigest()
