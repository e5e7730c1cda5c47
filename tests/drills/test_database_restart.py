"""Drill: the database goes away again and again while a client posts batches of events,
as in a restart or a failover: every connection is dropped, and for a moment no new one
is accepted. The client gets a 503 it can retry, never a bare 500; it sends the same batch
again with the same idempotency keys; each event is stored once."""

import itertools
import random
import threading
import time

import psycopg
import pytest
import requests
from django.db import close_old_connections, connection
from rest_framework.authtoken.models import Token

from apps.accounts import roles
from apps.contacts.models import Contact, Event
from apps.core.api.errors import DATABASE_UNAVAILABLE
from tests.drills.conftest import ON_POSTGRESQL
from tests.factories import ContactFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRESQL, reason="drills end PostgreSQL server connections (pg_terminate_backend)"
    ),
]

BATCHES, PER_BATCH, NEW_PER_BATCH = 30, 20, 4
MAX_TRIES = 50
TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> %s"
)


class ConnectionKiller(threading.Thread):
    """Every few tens of milliseconds ends every other server connection to the test
    database, sparing the test's own; every third time the database then refuses new
    connections for a moment, as a server does while it restarts."""

    def __init__(self, spare_pid: int):
        super().__init__(daemon=True)
        self.spare_pid, self.kills, self.refusals = spare_pid, 0, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        # Only a connection to another database may close this one to new connections.
        with server_connection() as server:
            try:
                for round_ in itertools.count(1):
                    if self._stop_event.wait(random.uniform(0.01, 0.08)):
                        break
                    self._outage(server, refusing=round_ % 3 == 0)
            finally:
                server.execute(accepting_connections(True))

    def _outage(self, server, *, refusing: bool) -> None:
        if refusing:
            server.execute(accepting_connections(False))
        database = connection.settings_dict["NAME"]
        [(killed,)] = server.execute(TERMINATE, [database, self.spare_pid]).fetchall()
        self.kills += killed
        if refusing:
            time.sleep(random.uniform(0.05, 0.2))
            server.execute(accepting_connections(True))
            self.refusals += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


def server_connection() -> psycopg.Connection:
    """A connection of the drill's own to the server's maintenance database."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def accepting_connections(allowed: bool) -> str:
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    return f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {str(allowed).lower()}"


def batch(number: int, contacts: list[Contact]) -> list[dict]:
    """Events for known contacts, and a few naming a new contact to create."""
    known = [
        {
            "type": "pricing_view",
            "occurred_at": "2026-03-10T16:00:00+00:00",
            "idempotency_key": f"drill-{number}-{i}",
            "contact": {"id": contacts[i % len(contacts)].pk},
        }
        for i in range(PER_BATCH - NEW_PER_BATCH)
    ]
    new = [
        {
            "type": "form_submit",
            "occurred_at": "2026-03-10T16:00:00+00:00",
            "idempotency_key": f"drill-{number}-new-{i}",
            "contact": {"external_id": f"drill-{number}-{i}"},
            "create_contact": True,
        }
        for i in range(NEW_PER_BATCH)
    ]
    return known + new


def ingest(url: str, token: str, batches: list[list[dict]]) -> tuple[list, list]:
    """Posts each batch until it is taken, sending it again unchanged after a 503 or a lost
    connection; returns every answer (status, body) and the final one of each batch."""
    session = requests.Session()
    session.trust_env = False  # straight to the live server, never through a proxy
    headers = {"Authorization": f"Token {token}"}
    answers, finals = [], []
    for events in batches:
        for _ in range(MAX_TRIES):
            try:
                response = session.post(url, json={"events": events}, headers=headers, timeout=10)
            except requests.ConnectionError:
                answers.append(("no answer", None))
                continue
            body = response.json() if "json" in response.headers.get("Content-Type", "") else None
            answers.append((response.status_code, body))
            if response.status_code != 503:
                break
            time.sleep(0.02)
        finals.append(answers[-1])
    return answers, finals


def test_database_restarts_during_ingest_lose_and_duplicate_nothing(live_server):
    # Given a client with a token and contacts its events name
    token = Token.objects.create(user=UserFactory(role=roles.ADMIN)).key
    contacts = ContactFactory.create_batch(3)
    batches = [batch(number, contacts) for number in range(BATCHES)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [own_pid] = cursor.fetchone()

    # When it posts them while the database keeps dropping its connections
    killer = ConnectionKiller(spare_pid=own_pid)
    killer.start()
    try:
        answers, finals = ingest(f"{live_server.url}/api/v1/events/", token, batches)
    finally:
        killer.stop()
    close_old_connections()

    # Then the outage bit, and every failed request was a 503 saying to send it again
    refused = [body for status, body in answers if status == 503]
    assert killer.kills > 0 and killer.refusals > 0 and len(refused) > 0
    assert {status for status, _ in answers} <= {200, 503, "no answer"}
    assert all(body == DATABASE_UNAVAILABLE for body in refused)

    # And every batch was taken in the end, each of its events stored exactly once
    assert [status for status, _ in finals] == [200] * BATCHES
    assert [body["errors"] for _, body in finals] == [0] * BATCHES
    keys = [event["idempotency_key"] for events in batches for event in events]
    stored = dict(Event.objects.values_list("idempotency_key", "pk"))
    assert sorted(stored) == sorted(keys)
    answered = {
        event["idempotency_key"]: result["id"]
        for events, (_, body) in zip(batches, finals, strict=True)
        for event, result in zip(events, body["results"], strict=True)
    }
    assert answered == stored
    created = Contact.objects.filter(external_id__startswith="drill-")
    assert created.count() == BATCHES * NEW_PER_BATCH
