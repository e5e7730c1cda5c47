"""Batched event ingest through the REST API (1000 per request) vs a raw bulk insert.

The baseline inserts raw the very rows the last run stored (bench/ingest.py says how)."""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from bench.generators import contact_id_range, contacts_generate
from bench.harness import Figure, scaled
from bench.ingest import product_timed, raw_timed

BATCH = 1000


def run() -> list[Figure]:
    events = scaled(100_000)
    contacts_generate(scaled(10_000), start=5_000_000)
    low, high = contact_id_range()
    bodies = _request_bodies(events, low, high)
    api = _client()
    through_api, rows = product_timed(lambda: _post_all(api, bodies))
    if len(rows) != events:
        raise RuntimeError(f"ingest stored {len(rows)} of {events} events")
    raw = raw_timed(rows)
    name = "COPY" if connection.vendor == "postgresql" else "executemany"
    return [
        Figure(
            f"ingest {events} events via POST /api/v1/events/ ({BATCH} per request)",
            through_api,
            "s",
            f"raw {name}",
            raw,
            target="≤ 3x raw (≥ 1/3 of its speed)",
        ),
    ]


def _client() -> APIClient:
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    api = APIClient()
    api.force_authenticate(user)
    return api


def _request_bodies(events: int, low: int, high: int) -> list[bytes]:
    start = datetime.now(UTC) - timedelta(days=10)
    span = high - low + 1
    bodies = []
    for first in range(0, events, BATCH):
        batch = [
            {
                "type": "pricing_view",
                "occurred_at": (start + timedelta(seconds=i)).isoformat(),
                "idempotency_key": f"api-{i}",
                "properties": {"page": "/pricing", "i": i},
                "source": "bench",
                "contact": {"external_id": f"ext-{5_000_000 + (i * 7919) % span}"},
            }
            for i in range(first, min(first + BATCH, events))
        ]
        bodies.append(json.dumps({"events": batch}).encode())
    return bodies


def _post_all(api: APIClient, bodies: list[bytes]) -> None:
    for body in bodies:
        response = api.post("/api/v1/events/", body, content_type="application/json")
        if response.status_code != 200 or response.json()["errors"]:
            raise RuntimeError(f"ingest failed: {response.status_code} {response.content[:300]}")
