"""Why a message was (or wasn't) sent, in sentences a marketer can read."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.consent.models import ConsentSource, Purpose
from apps.sends.models import Decision, MessageEvent, MessageStatus, OutboundMessage
from apps.sends.services.outcomes import CARRIER_OPT_OUT, INVALID_NUMBERS

REACHED = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED})

_STAGES = {
    "create": "at creation",
    "dispatch": "at dispatch",
    "release": "when its deferral ended",
    "regate": "when its contact changed",
}


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
    passed: list[dict] = []  # what the checks found, the last time the gate allowed it
    deferred_before = False
    for event in events:
        if stage := _allowed_stage(event):
            allowed.append(stage)
            passed = (event.detail.get("inputs") or {}).get("passed") or passed
        elif event.kind == MessageEvent.Kind.DECISION:
            lines += _allowed_line(allowed, passed)
            allowed, passed = [], []
            lines.append(_refusal_line(message, event.detail, again=deferred_before))
            deferred_before |= event.detail.get("decision") == Decision.DEFER
    return lines + _allowed_line(allowed, passed)


def _allowed_stage(event: MessageEvent) -> str | None:
    detail = event.detail or {}
    if event.kind == MessageEvent.Kind.DECISION and detail.get("decision") == Decision.ALLOW:
        return detail.get("stage", "create")
    if event.kind == MessageEvent.Kind.TRANSITION and detail.get("gate") == "allowed at dispatch":
        return "dispatch"
    return None


def _allowed_line(stages: list[str], passed: list[dict]) -> list[str]:
    phrases = [stage_phrase(stage) for stage in dict.fromkeys(stages)]
    if not phrases:
        return []
    lines = [f"Allowed {' and again '.join(phrases)}: every rule allows it."]
    found = [words for note in passed if (words := _passed_words(note))]
    if found:
        lines.append(f"What the gate found {phrases[-1]}: {'; '.join(found)}.")
    return lines


def _passed_words(note: dict) -> str:
    """One rule the gate passed, with the input it read."""
    rule = note.get("rule")
    if rule == "suppression":
        return "the number is on no suppression list"
    if rule == "consent":
        return _consent_words(note)
    if rule == "preferences":
        if not note.get("set"):
            return "the contact set no preferences"
        topics = note.get("topics") or []
        wanted = f" and asked for {', '.join(topics)}" if topics else ""
        return f"the contact's preferences allow this channel{wanted}"
    if rule == "extra":
        names = [name.replace("_", " ") for name in note.get("checks") or []]
        return f"the {' and '.join(names)} checks pass" if names else ""
    if rule == "quiet_hours":
        return _window_words(note)
    if rule == "caps":
        counts = note.get("counts") or []
        used = [f"{c['used']} of {c['max']} ({c['cap']})" for c in counts]
        return f"caps: {', '.join(used)}" if used else "no frequency cap applies"
    if rule == "duplicate":
        return f"no copy of this template version in the last {note.get('hours')} h"
    return ""


def _consent_words(note: dict) -> str:
    if note.get("purpose") != Purpose.MARKETING:
        return "no opt-out of transactional messages on record"
    when = parse_datetime(note["recorded_at"]) if note.get("recorded_at") else None
    source = note.get("source")
    label = ConsentSource(source).label if source in ConsentSource.values else "unrecorded"
    on = f" on {when:%d %b %Y}" if when else ""
    return f"marketing consent opted in (ledger row {note.get('record_id')}: {label}{on})"


def _window_words(note: dict) -> str:
    zones, times = note.get("zones") or [], note.get("local_times") or []
    rule = note.get("window_rule", "default")
    places = ", ".join(f"{at} in {zone}" for zone, at in zip(zones, times, strict=False))
    return f"{places or 'the local time'} is inside the sending window ({rule})"


def stage_phrase(stage: str) -> str:
    return _STAGES.get(stage, f"at {stage}")


def _refusal_line(message: OutboundMessage, detail: dict, *, again: bool) -> str:
    decision, code = detail.get("decision"), detail.get("reason_code", "")
    phrase = stage_phrase(detail.get("stage", "create"))
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
    """The gate words its own reasons for people; they are shown as they are."""
    return _sentence(detail.get("reason", ""))


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
