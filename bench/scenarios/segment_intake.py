"""Segment `track` calls through /segment/v1/batch (1000 per request) vs a raw bulk insert.

The userIds are known contacts' Segment ids, so every run stores events only, and the
baseline inserts raw the very rows the last run stored (bench/ingest.py says how)."""

import base64
import json
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test import Client

from apps.segment_intake.keys import write_key_create
from bench.generators import contact_id_range, contacts_generate, external_ids_generate
from bench.harness import Figure, scaled
from bench.ingest import product_timed, raw_timed

BATCH = 1000  # about 200 KB a request: inside Segment's 500 KB


def run() -> list[Figure]:
    events = scaled(100_000)
    contacts_generate(scaled(10_000), start=5_000_000)
    external_ids_generate(source="segment")  # the userIds sent are known contacts' ids
    low, high = contact_id_range()
    bodies = _request_bodies(events, low, high)
    client = _client()
    through_segment, rows = product_timed(lambda: _post_all(client, bodies))
    if len(rows) != events:  # Segment answers success either way: count what was kept
        raise RuntimeError(f"ingest stored {len(rows)} of {events} events")
    raw = raw_timed(rows)
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
