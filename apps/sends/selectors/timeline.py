"""A message's decision and delivery log, each step with its inputs in readable form."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.consent.models import ConsentStatus
from apps.sends.models import Decision, FrequencyCap, MessageEvent, MessageStatus, OutboundMessage
from apps.sends.selectors.explain import stage_phrase

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
        decision = dict(Decision.choices).get(detail.get("decision"), "?").lower()
        title = f"Gate decision {stage_phrase(detail.get('stage', 'create'))}: {decision}"
        values = {k: v for k, v in detail.items() if k != "stage"} | detail.get("inputs", {})
    elif event.kind == MessageEvent.Kind.ERROR:
        code = f" {detail['code']}" if detail.get("code") else ""
        kind = "permanent" if detail.get("permanent") else "temporary"
        title, values = f"Provider error{code} ({kind})", detail
    elif event.kind == MessageEvent.Kind.PROVIDER:
        title, values = f"Provider reports: {detail.get('provider_status') or status}", detail
    else:
        title, values = f"Status: {status}", detail
    return TimelineStep(
        at=event.at, kind=event.kind, status=status, title=title,
        reason=detail.get("reason") or detail.get("error") or "", inputs=_inputs(values, caps),
    )  # fmt: skip


def _inputs(values: dict, caps: dict[int, str]) -> tuple[tuple[str, str], ...]:
    """In the order of _INPUT_LABELS, then by name: jsonb keeps no key order."""
    known = list(_INPUT_LABELS)
    pairs = []
    for key in sorted(values, key=lambda k: (known.index(k) if k in known else len(known), k)):
        value = values[key]
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
