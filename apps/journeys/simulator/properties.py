"""The properties an event type is known to carry, for the simulator's event form: what the
journey itself reads (its trigger filters, the times its waits read), what Cue's own event
types carry, and what the newest events of the type on file held."""

from apps.contacts.models import Event, EventType
from apps.journeys.models import Journey

# What Cue's own intake, forms and webhooks put on the events it records.
KNOWN_PROPERTIES: dict[str, tuple[str, ...]] = {
    EventType.FORM_SUBMIT: ("form", "page"),
    EventType.WEBINAR_REGISTERED: ("webinar", "starts_at"),
    EventType.WEBINAR_ATTENDED: ("webinar", "minutes"),
    EventType.PRICING_VIEW: ("plan", "url"),
    EventType.DEMO_REQUEST: ("form",),
    EventType.MEETING_BOOKED: ("starts_at",),
    EventType.SMS_CLICK: ("url",),
    EventType.SMS_REPLY: ("body",),
    EventType.LIFECYCLE_STAGE_CHANGED: ("from", "to"),
    EventType.STAGE_CHANGED: ("from", "to"),
}
SAMPLED_EVENTS = 50  # the newest events of the type read for their keys (index type_at)
MAX_PROPERTIES = 12


def event_property_names(*, event_type: str, journey: Journey | None = None) -> list[str]:
    """The property names to offer for `event_type`, the ones the journey reads first."""
    names: list[str] = []
    if journey is not None and event_type == journey.trigger_event_type:
        names += list((journey.trigger_filters or {}).keys())
        names += _read_by_steps(journey)
    names += KNOWN_PROPERTIES.get(event_type, ())
    names += _seen(event_type)
    return [name for name in dict.fromkeys(names) if isinstance(name, str) and name][
        :MAX_PROPERTIES
    ]


def _read_by_steps(journey: Journey) -> list[str]:
    """Event properties a step waits on (a wait until the time the event carries)."""
    configs = journey.steps.values_list("config", flat=True)
    return [c["until_property"] for c in configs if isinstance(c, dict) and c.get("until_property")]


def _seen(event_type: str) -> list[str]:
    if not event_type:
        return []
    recent = Event.objects.filter(type=event_type).order_by("-occurred_at")[:SAMPLED_EVENTS]
    keys: list[str] = []
    for properties in recent.values_list("properties", flat=True):
        if isinstance(properties, dict):
            keys += properties.keys()
    return keys
