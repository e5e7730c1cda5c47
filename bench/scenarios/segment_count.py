"""Counting a realistic segment over 1M contacts vs a plain COUNT of the contacts table,
and vs the naive way: a per-contact ORM loop, run on a sample and extrapolated."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from apps.consent.models import ConsentState
from apps.contacts.models import AttributeDefinition, Contact, Event
from apps.contacts.segments import segment_contacts
from bench.generators import consent_generate, contacts_generate, events_generate
from bench.harness import Figure, best_of, scaled, timed

NAIVE_SAMPLE = 2_000

RULES = {
    "all": [
        {"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql", "sql"]},
        {"field": "kind", "op": "eq", "value": "prospect"},
        {"consent": {"channel": "sms", "purpose": "marketing", "status": ["opted_in"]}},
        {"event": "pricing_view", "occurred": True, "within_days": 30},
        {"event": "meeting_booked", "occurred": False, "within_days": 30},
    ]
}
# Custom attributes: a choice equality (JSON containment, the GIN index on PostgreSQL) and
# a number comparison (the value read from the JSON on every candidate row).
ATTRIBUTE_RULES = {
    "all": [
        {"attribute": "plan", "op": "eq", "value": "pro"},
        {"attribute": "seats", "op": "gte", "value": 10},
        {"field": "kind", "op": "eq", "value": "prospect"},
    ]
}


def run() -> list[Figure]:
    contacts = scaled(1_000_000)
    contacts_generate(contacts)
    _attributes_generate()
    consent_generate(every=2)
    events_generate(contacts, days=60, key_prefix="seg")
    _analyze()
    matched = segment_contacts(rules=RULES).count()
    segment = best_of(lambda: segment_contacts(rules=RULES).count())
    plain = best_of(_plain_count)
    sample = min(NAIVE_SAMPLE, contacts)
    naive = timed(lambda: _naive_loop(sample)) * contacts / sample
    name = (
        f"segment count over {contacts} contacts ({matched} match, 5 rules incl. consent "
        "and events)"
    )
    return [
        Figure(
            name,
            segment,
            "s",
            "plain COUNT(*) of contacts",
            plain,
            target="≤ 3x plain COUNT",
        ),
        Figure(
            f"{name}, vs a per-contact ORM loop ({sample} contacts timed, extrapolated)",
            segment,
            "s",
            "per-contact loop",
            naive,
            target="≤ 0.01x (at least 100x faster than the loop)",
        ),
        _attribute_figure(contacts, plain),
    ]


def _attribute_figure(contacts: int, plain: float) -> Figure:
    matched = segment_contacts(rules=ATTRIBUTE_RULES).count()
    seconds = best_of(lambda: segment_contacts(rules=ATTRIBUTE_RULES).count())
    return Figure(
        f"segment count over {contacts} contacts on custom attributes ({matched} match: "
        "plan eq pro, seats gte 10, kind) in one statement",
        seconds,
        "s",
        "plain COUNT(*) of contacts",
        plain,
        target="one SQL statement; reported against plain COUNT",
    )


def _attributes_generate() -> None:
    """A plan (a third each: free, pro, team) and a seat count on every contact, in one
    UPDATE, with their definitions."""
    AttributeDefinition.objects.get_or_create(
        key="plan", defaults={"label": "Plan", "type": "choice", "options": ["free", "pro", "team"]}
    )
    AttributeDefinition.objects.get_or_create(
        key="seats", defaults={"label": "Seats", "type": "number"}
    )
    plan = "CASE id % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END"
    build = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE contacts_contact SET attributes = {build}('plan', {plan}, 'seats', id % 50)"
        )


def _naive_loop(sample: int) -> int:
    """The same rules checked one contact at a time, the way a script would."""
    since = timezone.now() - timedelta(days=30)
    matched = 0
    for contact in Contact.objects.order_by("pk")[:sample].iterator():
        if contact.kind != "prospect" or contact.lifecycle_stage not in ("lead", "mql", "sql"):
            continue
        consent = ConsentState.objects.filter(
            contact=contact, channel="sms", purpose="marketing"
        ).first()
        if consent is None or consent.status != "opted_in":
            continue
        recent = Event.objects.filter(contact=contact, occurred_at__gte=since)
        if recent.filter(type="pricing_view").exists() and not (
            recent.filter(type="meeting_booked").exists()
        ):
            matched += 1
    return matched


def _plain_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contacts_contact")
        return cursor.fetchone()[0]


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
