"""Reads of the send pipeline, in words people can use: why a message was (or wasn't) sent,
its decision and delivery timeline, one contact's conversation, and the messages on the
contact timeline. Nothing here writes."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.consent.models import Channel, ConsentStatus
from apps.contacts.models import Contact
from apps.contacts.selectors import TimelineEntry
from apps.sends.models import (
    Decision,
    FrequencyCap,
    InboundMessage,
    MessageEvent,
    MessageStatus,
    OutboundMessage,
    TrackedLink,
)
from apps.sends.services.outcomes import CARRIER_OPT_OUT, INVALID_NUMBERS

PREVIEW_CHARS = 60
REACHED = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED})

_STAGES = {"create": "at creation", "dispatch": "at dispatch", "release": "when its deferral ended"}
_CONSENT_NOW = {
    ConsentStatus.NONE: "no {channel} consent is on record",
    ConsentStatus.PENDING: "{channel} consent is awaiting confirmation",
    ConsentStatus.OPTED_OUT: "the contact opted out of {channel}",
    ConsentStatus.OPTED_IN: "{channel} consent is active",
}
_ZONE_SOURCES = {
    "contact": "the contact's stated time zone",
    "address": "the contact's state or region",
    "phone": "the phone number",
    "unknown": "nowhere: unknown",
}
_INPUT_LABELS = {
    "stage": "Stage",
    "reason_code": "Rule",
    "until": "Deferred until",
    "zones": "Candidate time zones",
    "zone_source": "Time zone taken from",
    "window_rule": "Sending window",
    "consent_status": "Consent",
    "suppression_id": "Suppression entry",
    "since": "On the suppression list since",
    "cap_id": "Frequency cap",
    "used": "Already sent or reserved",
    "twin_message_id": "Earlier message",
    "attempt": "Attempt",
    "gate": "Gate",
    "next_attempt_at": "Next attempt",
    "provider_sid": "Provider id",
    "provider_status": "Provider status",
    "error_code": "Error code",
    "code": "Error code",
    "permanent": "Permanent",
    "maybe_sent": "May have reached the provider",
}
_NOT_INPUTS = {"decision", "reason", "inputs", "at", "error"}


# --- Why was (or wasn't) it sent -----------------------------------------------------------


def message_explain_title(message: OutboundMessage) -> str:
    return "Why was this sent?" if message.status in REACHED else "Why wasn't this sent?"


def message_explain(message: OutboundMessage, *, events: list | None = None) -> list[str]:
    """Sentences a marketer can read: each gate refusal in order, the allowances between
    them, and what became of the message."""
    events = list(message.log.all()) if events is None else events
    lines = _decision_lines(message, events)
    retries = _retry_line(message, events)
    outcome = _outcome_line(message)
    return [*lines, *filter(None, [retries, outcome])]


def _decision_lines(message: OutboundMessage, events: list[MessageEvent]) -> list[str]:
    lines: list[str] = []
    allowed: list[str] = []
    deferred_before = False
    for event in events:
        if stage := _allowed_stage(event):
            allowed.append(stage)
        elif event.kind == MessageEvent.Kind.DECISION:
            lines += _allowed_line(allowed)
            allowed = []
            lines.append(_refusal_line(message, event.detail, again=deferred_before))
            deferred_before |= event.detail.get("decision") == Decision.DEFER
    return lines + _allowed_line(allowed)


def _allowed_stage(event: MessageEvent) -> str | None:
    detail = event.detail or {}
    if event.kind == MessageEvent.Kind.DECISION and detail.get("decision") == Decision.ALLOW:
        return detail.get("stage", "create")
    if event.kind == MessageEvent.Kind.TRANSITION and detail.get("gate") == "allowed at dispatch":
        return "dispatch"
    return None


def _allowed_line(stages: list[str]) -> list[str]:
    phrases = [_stage_phrase(stage) for stage in dict.fromkeys(stages)]
    if not phrases:
        return []
    return [f"Allowed {' and again '.join(phrases)}: every rule allows it."]


def _stage_phrase(stage: str) -> str:
    return _STAGES.get(stage, f"at {stage}")


def _refusal_line(message: OutboundMessage, detail: dict, *, again: bool) -> str:
    decision, code = detail.get("decision"), detail.get("reason_code", "")
    phrase = _stage_phrase(detail.get("stage", "create"))
    if decision == Decision.DEFER and code == "quiet_hours" and detail.get("until"):
        inputs = detail.get("inputs") or {}
        rule = inputs.get("window_rule", "default")
        when = _until_words(detail["until"], inputs.get("zones") or [])
        return f"Deferred{' again' if again else ''} to {when} by quiet hours ({rule})."
    if decision == Decision.DEFER:
        return f"Deferred {phrase}: {_sentence(detail.get('reason', ''))}"
    if decision == Decision.HOLD and code == "zone_unknown":
        return (
            f"Held {phrase}: no time zone is known for this contact, so quiet hours cannot be "
            "checked. Add the contact's time zone or state."
        )
    if decision == Decision.HOLD:
        return f"Held {phrase}: {_sentence(detail.get('reason', ''))}"
    return f"Held back {phrase}: {_suppression_words(message, detail)}"


def _until_words(until: str, zones: list[str]) -> str:
    moment = parse_datetime(until)
    utc = f"{moment.astimezone(ZoneInfo('UTC')):%a %H:%M} UTC"
    if len(zones) == 1:
        return f"{moment.astimezone(ZoneInfo(zones[0])):%H:%M} in {zones[0]} ({utc})"
    return f"{utc}, inside the window in every zone the number may be in ({', '.join(zones)})"


def _suppression_words(message: OutboundMessage, detail: dict) -> str:
    code, reason = detail.get("reason_code", ""), detail.get("reason", "")
    status = (detail.get("inputs") or {}).get("consent_status")
    if not code.startswith("consent_") or status not in _CONSENT_NOW:
        return _sentence(reason)
    channel = Channel(message.channel).label
    now = _CONSENT_NOW[status].format(channel=channel)
    why = reason.split(";", 1)[0].strip()
    if status == ConsentStatus.OPTED_OUT and why.startswith("The contact opted out"):
        return f"The contact opted out of {channel}."
    return f"{why}; {now}."


def _retry_line(message: OutboundMessage, events: list[MessageEvent]) -> str | None:
    retried = [
        event
        for event in events
        if event.kind == MessageEvent.Kind.ERROR
        and not event.detail.get("permanent")
        and not event.detail.get("maybe_sent")
    ]
    if not retried or message.status == MessageStatus.FAILED:
        return None
    last = retried[-1].detail.get("code") or "no code"
    count = len(retried)
    return (
        f"{count} send attempt{'s' if count > 1 else ''} hit a temporary provider error "
        f"(last: {last}) and {'were' if count > 1 else 'was'} retried."
    )


def _outcome_line(message: OutboundMessage) -> str | None:
    status, clock = message.status, lambda moment: _clock(message, moment)
    if status == MessageStatus.PENDING:
        return "Waiting for the gate to decide."
    if status == MessageStatus.QUEUED:
        return _queued_words(message)
    if status == MessageStatus.SENDING:
        return _sending_words(message)
    if status == MessageStatus.SENT:
        return f"Sent {clock(message.sent_at)}; no delivery report yet."
    if status == MessageStatus.DELIVERED:
        sent = f"Sent {clock(message.sent_at)}, delivered" if message.sent_at else "Delivered"
        return f"{sent} {clock(message.delivered_at)}."
    if status == MessageStatus.UNDELIVERED:
        return (
            f"Sent {clock(message.sent_at)}, but the carrier could not deliver it{_error(message)}."
        )
    if status == MessageStatus.FAILED:
        return _failed_words(message)
    if status == MessageStatus.CANCELED:
        return f"Canceled before sending: {_sentence(message.reason or 'no reason recorded')}"
    return None  # suppressed, deferred, held: the decision lines say why


def _queued_words(message: OutboundMessage) -> str:
    if message.next_attempt_at:
        return f"Queued to be sent; next attempt at {_clock(message, message.next_attempt_at)}."
    return "Queued to be sent."


def _sending_words(message: OutboundMessage) -> str:
    if message.needs_reconciliation:
        return (
            "Handed to the provider, but its answer was lost: Cue is asking the provider "
            "whether it has the message before doing anything else (never a blind resend)."
        )
    return f"Being handed to the provider (since {_clock(message, message.claimed_at)})."


def _failed_words(message: OutboundMessage) -> str:
    if message.sent_at:
        sent = _clock(message, message.sent_at)
        return f"Sent {sent}, but it failed at the carrier{_error(message)}."
    words = f"Not sent: the provider refused it{_error(message)}."
    if message.error_code == CARRIER_OPT_OUT:
        words += " The carrier says this number unsubscribed: it is now on the suppression list."
    elif message.error_code in INVALID_NUMBERS:
        words += " The number cannot receive texts: it is now on the suppression list."
    return words


def _error(message: OutboundMessage) -> str:
    if not message.error_code:
        return ""
    text = f": {message.error_message}" if message.error_message else ""
    return f" (error {message.error_code}{text})"


def _clock(message: OutboundMessage, moment: datetime | None) -> str:
    """HH:MM in the site's zone; with the day when it is not the day the message was made."""
    if moment is None:
        return "at an unrecorded time"
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime(message.created_at).date():
        return f"{local:%H:%M}"
    return f"{local:%a %d %b %H:%M}"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "no reason recorded."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


# --- The decision and delivery timeline ----------------------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    at: datetime
    kind: str
    status: str
    title: str
    reason: str = ""
    inputs: tuple[tuple[str, str], ...] = ()


def message_timeline(message: OutboundMessage, *, events: list | None = None) -> list[TimelineStep]:
    """Every logged gate decision, status change, provider callback and error, in order,
    with its inputs as label/value pairs."""
    events = list(message.log.all()) if events is None else events
    caps = _caps_named(events)
    return [_step(event, caps) for event in events]


def _caps_named(events: list[MessageEvent]) -> dict[int, str]:
    ids = {(e.detail.get("inputs") or {}).get("cap_id") for e in events if e.detail} - {None}
    return {cap.pk: str(cap) for cap in FrequencyCap.objects.filter(pk__in=ids)} if ids else {}


def _step(event: MessageEvent, caps: dict[int, str]) -> TimelineStep:
    detail = event.detail or {}
    status = _status_label(event.status)
    if event.kind == MessageEvent.Kind.DECISION:
        decision = Decision(detail["decision"]).label.lower() if detail.get("decision") else "?"
        title = f"Gate decision {_stage_phrase(detail.get('stage', 'create'))}: {decision}"
        values = {
            **{k: v for k, v in detail.items() if k not in ("stage",)},
            **detail.get("inputs", {}),
        }
    elif event.kind == MessageEvent.Kind.ERROR:
        kind = "permanent" if detail.get("permanent") else "temporary"
        title, values = f"Provider error {detail.get('code') or ''} ({kind})", detail
    elif event.kind == MessageEvent.Kind.PROVIDER:
        title, values = f"Provider reports: {detail.get('provider_status') or status}", detail
    else:
        title, values = f"Status: {status}", detail
    reason = detail.get("reason") or detail.get("error") or ""
    return TimelineStep(at=event.at, kind=event.kind, status=status, title=title,
                        reason=reason, inputs=_inputs(values, caps))  # fmt: skip


def _inputs(values: dict, caps: dict[int, str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key, value in values.items():
        if key in _NOT_INPUTS or value in (None, "", [], {}):
            continue
        label = _INPUT_LABELS.get(key, key.replace("_", " ").capitalize())
        pairs.append((label, _input_value(key, value, caps)))
    return tuple(pairs)


def _input_value(key: str, value, caps: dict[int, str]) -> str:
    if key == "zones":
        return ", ".join(value)
    if key == "zone_source":
        return _ZONE_SOURCES.get(value, value)
    if key == "window_rule":
        return _window_words(value)
    if key == "consent_status" and value in ConsentStatus.values:
        return ConsentStatus(value).label
    if key == "cap_id":
        return caps.get(value, f"#{value}")
    if key in ("suppression_id", "twin_message_id"):
        return f"#{value}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and (moment := _datetime_or_none(value)):
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S %Z}"
    return str(value)


def _window_words(rule: str) -> str:
    start, end = settings.CUE_QUIET_HOURS_DEFAULT
    words = {"default": f"default {start:%H:%M}–{end:%H:%M}", "personal": "the contact's own"}
    return " + ".join(words.get(part, part) for part in rule.split("+"))


def _datetime_or_none(value: str) -> datetime | None:
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _status_label(status: str) -> str:
    return MessageStatus(status).label if status in MessageStatus.values else status


# --- One contact's (or one number's) conversation ------------------------------------------


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
        at=message.sent_at or message.created_at, direction="out", body=message.body,
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
    text = message.body if message.channel == Channel.SMS else (message.subject or message.body)
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


# --- Admin lists ---------------------------------------------------------------------------


def messages_search(*, queryset: QuerySet, term: str) -> QuerySet:
    """Exact matches only, each on an indexed column: an address (a phone number in any
    common format), a provider SID, or a contact id."""
    term = term.strip()
    match = Q(to_address=term) | Q(provider_sid=term)
    if phone := phone_e164_or_none(term):
        match |= Q(to_address=phone)
    if term.isdigit() and len(term) <= 18:
        match |= Q(contact_id=int(term))
    return queryset.filter(match)


def inbound_search(*, queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    match = Q(from_address=term) | Q(provider_sid=term)
    if phone := phone_e164_or_none(term):
        match |= Q(from_address=phone)
    if term.isdigit() and len(term) <= 18:
        match |= Q(contact_id=int(term))
    return queryset.filter(match)


def phone_e164_or_none(text: str, region: str = "US") -> str | None:
    if not any(char.isdigit() for char in text) or "@" in text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def links_with_clicks(queryset: QuerySet | None = None) -> QuerySet:
    """Tracked links with their people's clicks and link-preview fetches counted apart."""
    queryset = TrackedLink.objects.all() if queryset is None else queryset
    return queryset.annotate(
        human_clicks=Count("clicks", filter=Q(clicks__is_bot=False)),
        bot_clicks=Count("clicks", filter=Q(clicks__is_bot=True)),
    )
