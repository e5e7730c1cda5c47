"""Reads of the CRM core, including the one timeline of everything about a contact."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apps.contacts.models import Contact, Event, EventType


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "event", "consent", "message", "task", ...
    title: str
    detail: str = ""
    url: str = ""


TimelineSource = Callable[[Contact, int], list[TimelineEntry]]
_timeline_sources: dict[str, TimelineSource] = {}


def timeline_source_register(name: str, source: TimelineSource) -> None:
    """Higher apps (consent, sends, routing) add their entries to the contact timeline."""
    _timeline_sources[name] = source


def contact_timeline(
    *, contact: Contact, limit: int = 100, skip: tuple[str, ...] = ()
) -> list[TimelineEntry]:
    """Everything about the contact, newest first; `skip` leaves out registered sources
    (by name) that the caller adds itself, e.g. narrowed to what its user may see."""
    entries = _event_entries(contact, limit)
    for name, source in _timeline_sources.items():
        if name not in skip:
            entries.extend(source(contact, limit))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def _event_entries(contact: Contact, limit: int) -> list[TimelineEntry]:
    events = Event.objects.filter(contact=contact).order_by("-occurred_at")[:limit]
    return [
        TimelineEntry(
            at=event.occurred_at,
            kind="event",
            title=event_type_label(event.type),
            detail=_properties_summary(event.properties),
        )
        for event in events
    ]


def _properties_summary(properties: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in list(properties.items())[:6])


def event_type_label(event_type: str) -> str:
    return dict(EventType.choices).get(event_type, event_type.replace("_", " ").capitalize())
