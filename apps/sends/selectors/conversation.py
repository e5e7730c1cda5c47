"""One contact's (or one number's) conversation, and the messages on the contact timeline."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.consent.models import Channel
from apps.contacts.models import Contact
from apps.contacts.selectors import TimelineEntry
from apps.sends.models import InboundMessage, OutboundMessage
from apps.sends.selectors.explain import REACHED

PREVIEW_CHARS = 60


@dataclass(frozen=True)
class ConversationItem:
    at: datetime
    direction: str  # "out" or "in"
    body: str
    status: str
    reached: bool  # the text actually travelled (always true for a reply)
    url: str


def conversation(
    *, contact: Contact | None = None, phone: str = "", limit: int = 200
) -> list[ConversationItem]:
    """Texts to and from one contact (and, for its number, those matched to no contact),
    oldest first; the latest `limit` of them."""
    phone = phone or (str(contact.phone) if contact is not None and contact.phone else "")
    outbound = _outbound_for(contact, phone).order_by("-created_at", "-id")[:limit]
    inbound = _inbound_for(contact, phone).order_by("-received_at", "-id")[:limit]
    items = [_outbound_item(m) for m in outbound] + [_inbound_item(m) for m in inbound]
    return sorted(items, key=lambda item: item.at)[-limit:]


def _outbound_for(contact: Contact | None, phone: str) -> QuerySet:
    match = Q(contact=contact) if contact is not None else Q(pk__in=[])
    if phone:
        match |= Q(contact=None, to_address=phone)
    return OutboundMessage.objects.filter(match, channel=Channel.SMS)


def _inbound_for(contact: Contact | None, phone: str) -> QuerySet:
    match = Q(contact=contact) if contact is not None else Q(pk__in=[])
    if phone:
        match |= Q(contact=None, from_address=phone)
    return InboundMessage.objects.filter(match)


def _outbound_item(message: OutboundMessage) -> ConversationItem:
    status = message.get_status_display()
    if message.status not in REACHED and message.reason:
        status = f"{status}: {message.reason}"
    return ConversationItem(
        at=message.sent_at or message.created_at, direction="out", body=message.body_for_people,
        status=status, reached=message.status in REACHED,
        url=reverse("admin:sends_outboundmessage_change", args=[message.pk]),
    )  # fmt: skip


def _inbound_item(message: InboundMessage) -> ConversationItem:
    return ConversationItem(
        at=message.received_at, direction="in", body=message.body,
        status=_inbound_outcome(message), reached=True,
        url=reverse("admin:sends_inboundmessage_change", args=[message.pk]),
    )  # fmt: skip


def _inbound_outcome(message: InboundMessage) -> str:
    """e.g. "opt out (STOP): opted out; 1 queued message(s) cancelled"."""
    kind = message.keyword_kind if message.keyword_kind not in ("", "none") else ""
    keyword = f"{kind.replace('_', ' ')} ({message.keyword})" if kind else ""
    return ": ".join(part for part in (keyword, message.outcome) if part)


# --- Messages on the contact timeline ------------------------------------------------------


def message_timeline_entries(contact: Contact, limit: int) -> list[TimelineEntry]:
    """The contact's texts and emails, and their replies, for the contact's timeline."""
    outbound = OutboundMessage.objects.filter(contact=contact).order_by("-created_at", "-id")
    inbound = InboundMessage.objects.filter(contact=contact).order_by("-received_at", "-id")
    return [_outbound_entry(m) for m in outbound[:limit]] + [
        _inbound_entry(m) for m in inbound[:limit]
    ]


def _outbound_entry(message: OutboundMessage) -> TimelineEntry:
    channel = Channel(message.channel).label
    text = (
        message.body_for_people
        if message.channel == Channel.SMS
        else (message.subject or message.body)
    )
    verb = "sent" if message.status in REACHED else message.get_status_display().lower()
    detail = message.get_status_display()
    if message.status not in REACHED and message.reason:
        detail = f"{detail}: {message.reason}"
    return TimelineEntry(
        at=message.sent_at or message.created_at, kind="message",
        title=f"{channel} {verb}: {_preview(text)}", detail=detail,
        url=reverse("admin:sends_outboundmessage_change", args=[message.pk]),
    )  # fmt: skip


def _inbound_entry(message: InboundMessage) -> TimelineEntry:
    return TimelineEntry(
        at=message.received_at, kind="message", title=f"Replied: {_preview(message.body)}",
        detail=_inbound_outcome(message),
        url=reverse("admin:sends_inboundmessage_change", args=[message.pk]),
    )  # fmt: skip


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else f"{text[:PREVIEW_CHARS].rstrip()}…"
