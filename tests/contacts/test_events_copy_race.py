"""A large batch goes into the events table by COPY after leaving out the keys already
stored. When another request stores one of its keys between that look-up and the COPY,
the COPY fails on the unique key and the batch is stored through ON CONFLICT instead:
nothing is lost, nothing doubled, and the raced key stays the other request's."""

import threading
from datetime import timedelta

import pytest
from django.db import (
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone

from apps.contacts import events as events_module
from apps.contacts.events import EventInput, record_event, record_events
from apps.contacts.models import Event
from tests.factories import ContactFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the COPY path is PostgreSQL's"),
]

SIZE = 150


def a_batch(contact, prefix):
    start = timezone.now() - timedelta(days=1)
    return [
        EventInput(contact, "pricing_view", start + timedelta(minutes=i), f"{prefix}{i}", {"i": i})
        for i in range(SIZE)
    ]


def another_request_stores(contact, key):
    def store():
        try:
            record_event(
                contact=contact,
                type="demo_request",
                occurred_at=timezone.now(),
                idempotency_key=key,
            )
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=store)
    thread.start()
    thread.join(timeout=30)


def test_a_key_stored_by_another_request_during_the_copy_is_left_to_it():
    # Given a batch large enough for COPY, and another request that stores one of its keys
    # just after the batch looked its keys up
    contact = ContactFactory()
    assert SIZE >= events_module._COPY_FROM_ROWS
    raced = []

    def race_after_the_look_up(execute, sql, params, many, context):
        if "nextval" in sql and not raced:
            raced.append(True)
            another_request_stores(contact, "r7")
        return execute(sql, params, many, context)

    # When the batch is stored
    with connection.execute_wrapper(race_after_the_look_up), transaction.atomic():
        results = record_events(a_batch(contact, "r"))

    # Then every other key is ours, once; the raced key is the other request's event
    stored = dict(Event.objects.values_list("idempotency_key", "type"))
    assert raced == [True]
    assert len(stored) == SIZE
    assert stored["r7"] == "demo_request"
    assert {k: t for k, t in stored.items() if k != "r7"} == {
        f"r{i}": "pricing_view" for i in range(SIZE) if i != 7
    }
    assert [r.created for r in results] == [i != 7 for i in range(SIZE)]
    ids = dict(Event.objects.values_list("idempotency_key", "pk"))
    assert [r.event_id for r in results] == [ids[f"r{i}"] for i in range(SIZE)]


def test_a_batch_whose_keys_are_all_stored_draws_no_ids_and_stores_nothing():
    contact = ContactFactory()
    first = record_events(a_batch(contact, "s"))
    statements = []

    def note(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        again = record_events(a_batch(contact, "s"))

    assert [r.created for r in again] == [False] * SIZE
    assert [r.event_id for r in again] == [r.event_id for r in first]
    assert Event.objects.count() == SIZE
    assert [s for s in statements if "nextval" in s or "COPY" in s] == []
