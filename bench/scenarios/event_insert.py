"""Inserting events through the service layer vs a raw bulk insert of the same rows."""

import json
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from apps.contacts.events import EventInput, record_events
from apps.contacts.models import Contact
from bench.generators import contact_id_range, contacts_generate, table_clear
from bench.harness import Figure, best_of, scaled

BATCH = 1000


def run() -> list[Figure]:
    events = scaled(100_000)
    contacts_generate(scaled(10_000))
    rows = _rows(events)
    batches = _batches(rows)
    service = best_of(
        lambda: _through_service(batches), setup=lambda: table_clear("contacts_event")
    )
    raw = best_of(lambda: _raw_insert(rows), setup=lambda: table_clear("contacts_event"))
    table_clear("contacts_event")
    name = "COPY" if connection.vendor == "postgresql" else "executemany"
    return [
        Figure(
            f"insert {events} events via record_events (batches of {BATCH})",
            service,
            "s",
            f"raw {name}",
            raw,
            target="≥ 1/3 of raw speed (ratio ≤ 3)",
        ),
    ]


def _rows(n: int) -> list[tuple]:
    low, high = contact_id_range()
    span = high - low + 1
    start = datetime.now(UTC) - timedelta(days=30)
    return [
        (
            low + (i * 7919) % span,
            "pricing_view",
            start + timedelta(seconds=i),
            {"page": "/pricing", "i": i},
            "bench",
            f"svc-{i}",
        )
        for i in range(n)
    ]


def _batches(rows: list[tuple]) -> list[list[EventInput]]:
    """The caller's input, built before timing (the raw baseline gets its rows ready too)."""
    contacts = {c: Contact(pk=c) for c, *_ in rows}
    return [
        [
            EventInput(contacts[c], t, at, key, props, source)
            for c, t, at, props, source, key in rows[start : start + BATCH]
        ]
        for start in range(0, len(rows), BATCH)
    ]


def _through_service(batches: list[list[EventInput]]) -> None:
    for items in batches:
        record_events(items)


def _raw_insert(rows: list[tuple]) -> None:
    now = datetime.now(UTC)
    values = [(c, t, at, now, json.dumps(p), s, k) for c, t, at, p, s, k in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, values)
        else:
            cursor.executemany(
                "INSERT INTO contacts_event (contact_id, type, occurred_at, received_at, "
                "properties, source, idempotency_key) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (c, t, at.isoformat(" "), r.isoformat(" "), p, s, k)
                    for c, t, at, r, p, s, k in values
                ],
            )


def _copy(cursor, values) -> None:
    columns = "contact_id, type, occurred_at, received_at, properties, source, idempotency_key"
    with cursor.cursor.copy(f"COPY contacts_event ({columns}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
