"""Counting a realistic segment over 200k contacts vs a plain COUNT of the contacts table."""

from django.db import connection

from apps.contacts.segments import segment_contacts
from bench.generators import consent_generate, contacts_generate, events_generate
from bench.harness import Figure, best_of, scaled

RULES = {
    "all": [
        {"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql", "sql"]},
        {"field": "kind", "op": "eq", "value": "prospect"},
        {"consent": {"channel": "sms", "purpose": "marketing", "status": ["opted_in"]}},
        {"event": "pricing_view", "occurred": True, "within_days": 30},
        {"event": "meeting_booked", "occurred": False, "within_days": 30},
    ]
}


def run() -> list[Figure]:
    contacts = scaled(200_000)
    contacts_generate(contacts)
    consent_generate(every=2)
    events_generate(contacts, days=60, key_prefix="seg")
    _analyze()
    matched = segment_contacts(rules=RULES).count()
    segment = best_of(lambda: segment_contacts(rules=RULES).count())
    plain = best_of(_plain_count)
    return [
        Figure(
            f"segment count over {contacts} contacts ({matched} match, 5 rules incl. consent "
            "and events)",
            segment,
            "s",
            "plain COUNT(*) of contacts",
            plain,
            target="≤ 3x plain COUNT",
        ),
    ]


def _plain_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contacts_contact")
        return cursor.fetchone()[0]


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
