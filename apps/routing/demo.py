"""Demo routing: one rule per kind of signal for the demo sales team, and three open tasks
(a demo request waits in the team queue whatever the time)."""

from apps.routing.intent import intent_classify
from apps.routing.models import Intent, Priority, RoutingRule, SignalType, SlaClock, Strategy
from apps.routing.services import Signal, signal_receive

# name, position, signal types, intents, SLA minutes, clock, priority
RULES = [
    ("Interested reply", 10, [SignalType.REPLY], [Intent.POSITIVE, Intent.QUESTION], 15,
     SlaClock.BUSINESS, Priority.HIGH),
    ("Key link clicked", 20, [SignalType.KEY_LINK_CLICK], [], 30, SlaClock.BUSINESS,
     Priority.HIGH),
    ("Demo request", 30, [SignalType.DEMO_REQUEST], [], 5, SlaClock.BUSINESS, Priority.URGENT),
    ("High-intent pricing view", 40, [SignalType.PRICING_VIEW], [], 60, SlaClock.BUSINESS,
     Priority.NORMAL),
    ("Journey follow-up", 50, [SignalType.JOURNEY_STEP], [], 240, SlaClock.BUSINESS,
     Priority.NORMAL),
]  # fmt: skip

# A demo request waits in the team queue for whichever rep takes it first.
QUEUED = {"Demo request"}

# contact, signal type, what happened, context
TASKS = [
    ("demo-2", SignalType.REPLY, "Yes, call me tomorrow at 3", {"template": "Webinar reminder"}),
    ("demo-3", SignalType.KEY_LINK_CLICK, "book", {"template": "Webinar reminder"}),
    ("demo-6", SignalType.DEMO_REQUEST, "the pricing page", {"form": "pricing-demo"}),
]


def seed(workspace: dict) -> None:
    team = workspace["team"]
    for name, position, types, intents, sla, clock, priority in RULES:
        RoutingRule.objects.get_or_create(
            name=name,
            defaults={
                "position": position,
                "signal_types": types,
                "intents": intents,
                "team": team,
                "strategy": Strategy.QUEUE if name in QUEUED else Strategy.OWNER_FIRST,
                "sla_minutes": sla,
                "sla_clock": clock,
                "priority": priority,
                "reassign_on_breach": name == "Demo request",
            },
        )
    for external_id, signal_type, what, context in TASKS:
        signal_receive(_signal(workspace["contacts"][external_id], signal_type, what, context))


def _signal(contact, signal_type: str, what: str, context: dict) -> Signal:
    key = f"demo:{contact.external_id}:{signal_type}"
    if signal_type == SignalType.REPLY:
        result = intent_classify(what, phrases=[])
        return Signal(
            contact=contact,
            signal_type=signal_type,
            reason=f"Replied “{what}” to {context['template']}",
            context={**context, "body": what},
            intent=result.intent,
            confidence=result.confidence,
            key=key,
        )
    if signal_type == SignalType.DEMO_REQUEST:
        return Signal(
            contact=contact,
            signal_type=signal_type,
            reason=f"Requested a demo on {what}",
            context=context,
            key=key,
        )
    return Signal(
        contact=contact,
        signal_type=signal_type,
        reason=f"Clicked “{what}” in {context['template']}",
        context={**context, "link": what},
        key=key,
    )
