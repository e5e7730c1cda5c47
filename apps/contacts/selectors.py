"""Reads of the CRM core, including the one timeline of everything about a contact."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

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
    """What a person reads: "Webinar: Route planning 101 · Booked by: sam". Ids and keys
    (task_id, message_id) mean nothing to a reader and are left out, as are empty values
    and nested data."""
    shown = [
        f"{key.replace('_', ' ').capitalize()}: {value}"
        for key, value in properties.items()
        if not _internal_key(key) and value not in (None, "") and not isinstance(value, dict | list)
    ]
    return " · ".join(shown[:6])


def _internal_key(key: str) -> bool:
    return key == "id" or key.endswith(("_id", "_ids", "key")) or key.startswith("_")


def event_type_label(event_type: str) -> str:
    return dict(EventType.choices).get(event_type, event_type.replace("_", " ").capitalize())


def contacts_search(*, query: str, limit: int = 10) -> list[Contact]:
    """Contacts whose name, email or phone number matches what a person typed: a full phone
    number or email address exactly, otherwise names and emails by how they begin."""
    query = " ".join(query.split())[:200]
    if not query:
        return []
    contacts = Contact.objects.order_by("last_name", "first_name", "id")
    if phone := _phone_e164(query):
        return list(contacts.filter(phone=phone)[:limit])
    if "@" in query:
        return list(contacts.filter(email__iexact=query)[:limit])
    words = query.split(" ")
    by_name = Q(first_name__istartswith=words[0], last_name__istartswith=" ".join(words[1:]))
    if len(words) == 1:
        by_name = Q(first_name__istartswith=query) | Q(last_name__istartswith=query)
        by_name |= Q(email__istartswith=query)
    return list(contacts.filter(by_name)[:limit])


def _phone_e164(query: str) -> str:
    """The number in E.164 if the query is a valid phone number (US if no country code)."""
    if sum(ch.isdigit() for ch in query) < 7 or any(ch.isalpha() for ch in query):
        return ""
    try:
        number = phonenumbers.parse(query, "US")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


SEEN_EVENTS_DAYS = 90
SEEN_EVENTS_MAX = 200
SEEN_EVENTS_CACHE_KEY = "contacts:event-types-seen"
SEEN_EVENTS_CACHE_SECONDS = 300


def known_event_types() -> list[tuple[str, str]]:
    """(type, label) of Cue's own event types and every type seen lately, by label: what
    every picker of event types offers (segments, triggers, goals, the simulator)."""
    labels = {kind: event_type_label(kind) for kind in event_types_seen()}
    labels.update(EventType.choices)
    return sorted(labels.items(), key=lambda item: item[1].lower())


def event_types_seen() -> list[str]:
    """The event types recorded in the last SEEN_EVENTS_DAYS, by name. A distinct read of a
    large events table is not free: once per few minutes is enough for pickers that also
    take a type typed in."""
    return cache.get_or_set(SEEN_EVENTS_CACHE_KEY, _event_types_seen, SEEN_EVENTS_CACHE_SECONDS)


def _event_types_seen() -> list[str]:
    since = timezone.now() - timedelta(days=SEEN_EVENTS_DAYS)
    seen = Event.objects.filter(occurred_at__gte=since).order_by("type")
    return list(seen.values_list("type", flat=True).distinct()[:SEEN_EVENTS_MAX])
