"""Batched event ingest through the REST API (1000 per request) vs a raw bulk insert."""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from rest_framework.test import APIClient

from bench.generators import contact_id_range, contacts_generate, table_clear
from bench.harness import Figure, best_of, scaled

BATCH = 1000


def run() -> list[Figure]:
    events = scaled(100_000)
    contacts_generate(scaled(10_000), start=5_000_000)
    low, high = contact_id_range()
    bodies = _request_bodies(events, low, high)
    api = _client()
    through_api = best_of(
        lambda: _post_all(api, bodies), runs=2, setup=lambda: table_clear("contacts_event")
    )
    rows = _rows(bodies, low)
    raw = best_of(lambda: _raw_insert(rows), runs=2, setup=lambda: table_clear("contacts_event"))
    table_clear("contacts_event")
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


def _rows(bodies: list[bytes], low: int) -> list[tuple]:
    now = datetime.now(UTC)
    rows = []
    for body in bodies:
        for item in json.loads(body)["events"]:
            contact_id = low + int(item["contact"]["external_id"][4:]) - 5_000_000
            rows.append(
                (
                    contact_id,
                    item["type"],
                    item["occurred_at"],
                    now.isoformat(),
                    json.dumps(item["properties"]),
                    item["source"],
                    item["idempotency_key"],
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
