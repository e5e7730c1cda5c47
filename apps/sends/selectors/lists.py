"""Reads behind the admin lists: exact, indexed search and link click counts."""

import phonenumbers
from django.db.models import Count, Q, QuerySet

from apps.sends.models import TrackedLink


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
