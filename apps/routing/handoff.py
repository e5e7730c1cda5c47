"""Routing's handler on the contacts hand-off: which stored events are intent signals.

- an SMS reply (classified by intent; opt-outs were handled by sends and never get here),
- a person's click on a link the template marks as key,
- a demo request,
- a pricing view while the contact's intent band is high.

Each signal is keyed by its event's id, so a hand-off that runs twice (after a crash
between handling and marking) finds its signal already routed and changes nothing.
"""

from apps.contacts.models import Contact, Event, EventType, IntentBand
from apps.routing.intent import custom_phrases, intent_classify
from apps.routing.models import SignalType
from apps.routing.services import Signal, signal_receive
from apps.routing.services.rules import rules_active
from apps.sends.models import OutboundMessage

QUOTE_CHARS = 80


def routing_on_events(events: list[Event]) -> None:
    signals = signals_from_events(events)
    rules = rules_active() if signals else []  # read once for the batch
    for signal in signals:
        signal_receive(signal, rules=rules)


def signals_from_events(events: list[Event]) -> list[Signal]:
    """The signals among the events, read with a fixed number of queries for the batch."""
    kinds = {e.type for e in events}
    relevant = [e for e in events if e.type in _BUILDERS]
    if not relevant:
        return []
    lookups = {
        "phrases": custom_phrases() if EventType.SMS_REPLY in kinds else [],
        "templates": _template_names(relevant),
        "high": _high_intent_contacts(relevant) if EventType.PRICING_VIEW in kinds else set(),
    }
    signals = [_BUILDERS[e.type](e, lookups) for e in relevant]
    return [signal for signal in signals if signal is not None]


def _template_names(events: list[Event]) -> dict[int, str]:
    ids = {e.properties.get("message_id") for e in events} - {None}
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    rows = OutboundMessage.objects.filter(pk__in=ids, template_version__isnull=False).values_list(
        "pk", "template_version__template__name"
    )
    return dict(rows)


def _high_intent_contacts(events: list[Event]) -> set[int]:
    # Read now, not from the events' contacts: the intent handler rescored them just before.
    ids = {e.contact_id for e in events if e.type == EventType.PRICING_VIEW}
    return set(
        Contact.objects.filter(pk__in=ids, intent_band=IntentBand.HIGH).values_list("pk", flat=True)
    )


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else f"{text[:QUOTE_CHARS].rstrip()}…"


def _journey_id(event: Event) -> int | None:
    value = event.properties.get("journey_id")
    return value if isinstance(value, int) else None


def _reply(event: Event, lookups: dict) -> Signal | None:
    body = str(event.properties.get("body", ""))
    if not body.strip():
        return None
    result = intent_classify(body, phrases=lookups["phrases"])
    template = lookups["templates"].get(event.properties.get("message_id"))
    where = f"to {template}" if template else "by SMS"
    return Signal(
        contact=event.contact,
        signal_type=SignalType.REPLY,
        reason=f"Replied “{_quote(body)}” {where}",
        context={
            "body": body[:1600],
            "inbound_message_id": event.properties.get("inbound_message_id"),
            "message_id": event.properties.get("message_id"),
            "template": template,
            "matched": result.matched,
        },
        intent=result.intent,
        confidence=result.confidence,
        journey_id=_journey_id(event),
        key=f"event:{event.pk}",
        event_id=event.pk,
    )


def _click(event: Event, lookups: dict) -> Signal | None:
    if event.properties.get("key_link") is not True:
        return None
    template = lookups["templates"].get(event.properties.get("message_id"))
    link = event.properties.get("link") or "a link"
    return Signal(
        contact=event.contact,
        signal_type=SignalType.KEY_LINK_CLICK,
        reason=f"Clicked “{link}” in {template or 'an SMS'}",
        context={"link": link, "message_id": event.properties.get("message_id")},
        journey_id=_journey_id(event),
        key=f"event:{event.pk}",
        event_id=event.pk,
    )


def _demo_request(event: Event, lookups: dict) -> Signal:
    detail = event.properties.get("form") or event.properties.get("page")
    return Signal(
        contact=event.contact,
        signal_type=SignalType.DEMO_REQUEST,
        reason=f"Requested a demo{f' ({detail})' if detail else ''}",
        context=dict(event.properties),
        journey_id=_journey_id(event),
        key=f"event:{event.pk}",
        event_id=event.pk,
    )


def _pricing_view(event: Event, lookups: dict) -> Signal | None:
    if event.contact_id not in lookups["high"]:
        return None
    page = event.properties.get("page")
    return Signal(
        contact=event.contact,
        signal_type=SignalType.PRICING_VIEW,
        reason=f"Viewed pricing{f' ({page})' if page else ''} with high intent",
        context=dict(event.properties),
        journey_id=_journey_id(event),
        key=f"event:{event.pk}",
        event_id=event.pk,
    )


_BUILDERS = {
    EventType.SMS_REPLY: _reply,
    EventType.SMS_CLICK: _click,
    EventType.DEMO_REQUEST: _demo_request,
    EventType.PRICING_VIEW: _pricing_view,
}
