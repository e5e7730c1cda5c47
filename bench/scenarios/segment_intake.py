"""Segment `track` calls through /segment/v1/batch (1000 per request) vs a raw bulk insert."""

import base64
import json
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.test import Client

from apps.segment_intake.keys import write_key_create
from bench.generators import contact_id_range, contacts_generate, table_clear
from bench.harness import Figure, best_of, scaled

BATCH = 1000  # about 200 KB a request: inside Segment's 500 KB


def run() -> list[Figure]:
    events = scaled(100_000)
    contacts_generate(scaled(10_000), start=5_000_000)
    low, high = contact_id_range()
    bodies = _request_bodies(events, low, high)
    client = _client()
    through_segment = best_of(
        lambda: _post_all(client, bodies), runs=2, setup=lambda: table_clear("contacts_event")
    )
    _all_stored_check(events)  # Segment answers success either way: count what was kept
    rows = _rows(bodies, low)
    raw = best_of(lambda: _raw_insert(rows), runs=2, setup=lambda: table_clear("contacts_event"))
    table_clear("contacts_event")
    name = "COPY" if connection.vendor == "postgresql" else "executemany"
    return [
        Figure(
            f"ingest {events} Segment track calls via POST /segment/v1/batch ({BATCH} per request)",
            through_segment,
            "s",
            f"raw {name}",
            raw,
            target="≤ 3x raw (≥ 1/3 of its speed)",
        ),
    ]


def _client() -> Client:
    _row, key = write_key_create(name="bench")
    auth = base64.b64encode(f"{key}:".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {auth}")


def _request_bodies(events: int, low: int, high: int) -> list[bytes]:
    start = datetime.now(UTC) - timedelta(days=10)
    span = high - low + 1
    bodies = []
    for first in range(0, events, BATCH):
        batch = [
            {
                "type": "track",
                "event": "Pricing Viewed",
                "userId": f"ext-{5_000_000 + (i * 7919) % span}",
                "properties": {"page": "/pricing", "i": i},
                "timestamp": (start + timedelta(seconds=i)).isoformat(),
                "messageId": f"seg-{i}",
                "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
            }
            for i in range(first, min(first + BATCH, events))
        ]
        sent_at = datetime.now(UTC).isoformat()
        bodies.append(json.dumps({"batch": batch, "sentAt": sent_at}).encode())
    return bodies


def _post_all(client: Client, bodies: list[bytes]) -> None:
    for body in bodies:
        response = client.post("/segment/v1/batch", body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"ingest failed: {response.status_code} {response.content[:300]}")


def _all_stored_check(events: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contacts_event")
        stored = cursor.fetchone()[0]
    if stored != events:
        raise RuntimeError(f"ingest stored {stored} of {events} events")


def _rows(bodies: list[bytes], low: int) -> list[tuple]:
    now = datetime.now(UTC)
    rows = []
    for body in bodies:
        for item in json.loads(body)["batch"]:
            contact_id = low + int(item["userId"][4:]) - 5_000_000
            rows.append(
                (
                    contact_id,
                    "pricing_viewed",
                    item["timestamp"],
                    now.isoformat(),
                    json.dumps(item["properties"]),
                    "segment",
                    "segment:" + item["messageId"],
                )
            )
    return rows


def _raw_insert(rows: list[tuple]) -> None:
    columns = "contact_id, type, occurred_at, received_at, properties, source, idempotency_key"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY contacts_event ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO contacts_event ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows
            )
