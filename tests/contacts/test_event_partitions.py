"""On PostgreSQL events live in monthly partitions of occurred_at; the idempotency key stays
unique across them through a key table, also when two requests race the same key, and the
migration converts a table that already holds rows. SQLite keeps one plain table."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.contacts.events import EventInput, record_event, record_events
from apps.contacts.models import EVENTS, Event, EventHandlerFailure
from apps.core.partitions import partitions_extend, partitions_list
from apps.routing.models import FollowUpTask, TaskSignal
from tests.factories import ContactFactory
from tests.threads import in_threads

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="partitions are PostgreSQL's"
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BEFORE = ("contacts", "0013_opportunity_imports")


def _partition_of(event_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM contacts_event WHERE id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def _keys() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT value, row_id FROM {EVENTS.key_table('idempotency_key')} ORDER BY 1"
        )
        return cursor.fetchall()


def _event(contact, key: str, occurred_at: datetime) -> EventInput:
    return EventInput(contact, "pricing_view", occurred_at, key, {"page": "/pricing"}, "web")


@pytest.mark.django_db
def test_it_puts_each_event_in_the_month_it_occurred_and_older_ones_in_default():
    partitions_extend(today=date(2026, 1, 1))
    contact = ContactFactory()
    with time_machine.travel(NOW, tick=False):
        feb, mar, old = record_events(
            [
                _event(contact, "feb", datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)),
                _event(contact, "mar", datetime(2026, 3, 1, tzinfo=UTC)),
                _event(contact, "old", datetime(2019, 5, 1, tzinfo=UTC)),
            ]
        )
    assert _partition_of(feb.event_id) == "contacts_event_p2026_02"
    assert _partition_of(mar.event_id) == "contacts_event_p2026_03"
    assert _partition_of(old.event_id) == "contacts_event_default"
    assert _keys() == [("feb", feb.event_id), ("mar", mar.event_id), ("old", old.event_id)]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 150], ids=["values", "copy"])
def test_a_key_repeated_in_another_month_returns_the_original_and_stores_nothing(size):
    partitions_extend(today=date(2026, 1, 1))
    contact = ContactFactory()
    with time_machine.travel(NOW, tick=False):
        first = record_event(
            contact=contact, type="demo_request", occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
            idempotency_key="k1",
        )  # fmt: skip
        batch = [_event(contact, f"b{i}", NOW - timedelta(days=i % 60)) for i in range(size)]
        results = record_events([*batch, _event(contact, "k1", NOW)])
    assert results[-1].event_id == first.event_id
    assert [r.created for r in results] == [True] * size + [False]
    assert Event.objects.filter(idempotency_key="k1").count() == 1
    assert Event.objects.get(idempotency_key="k1").type == "demo_request"
    assert len(_keys()) == size + 1
    assert sorted(Event.objects.values_list("pk", flat=True)) == sorted(
        [first.event_id, *(r.event_id for r in results[:-1])]
    )


@pytest.mark.django_db
def test_the_table_refuses_a_second_row_with_a_key_and_frees_it_on_delete():
    partitions_extend(today=date(2026, 1, 1))
    contact = ContactFactory()
    stored = Event.objects.create(
        contact=contact, type="pricing_view", occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
        idempotency_key="once",
    )  # fmt: skip
    taken = r"Key \(idempotency_key\)=\(once\) already"
    with pytest.raises(IntegrityError, match=taken), transaction.atomic():
        Event.objects.create(
            contact=contact, type="pricing_view", occurred_at=NOW, idempotency_key="once"
        )
    assert _keys() == [("once", stored.pk)]
    stored.delete()
    assert _keys() == []
    again = record_event(
        contact=contact, type="pricing_view", occurred_at=NOW, idempotency_key="once"
    )
    assert again.created is True
    assert _keys() == [("once", again.event_id)]


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_one_key_store_one_event_and_both_get_it():
    contact = ContactFactory()
    months = [datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)]

    def record(i):
        shared = _event(contact, "raced", months[i])
        own = [_event(contact, f"own-{i}-{n}", months[i]) for n in range(120)]
        with transaction.atomic():
            results = record_events([*own, shared])
        return results[-1]

    outcomes = in_threads(2, record)
    assert sorted(r.created for r in outcomes) == [False, True]
    assert outcomes[0].event_id == outcomes[1].event_id
    assert Event.objects.filter(idempotency_key="raced").count() == 1
    assert Event.objects.count() == 241
    assert [row_id for value, row_id in _keys() if value == "raced"] == [outcomes[0].event_id]


@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_a_table_that_holds_rows_across_three_months():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        state = executor.loader.project_state([BEFORE]).apps
        old_event = state.get_model("contacts", "Event")
        contact = state.get_model("contacts", "Contact").objects.create(email="a@example.com")
        made = {}
        for i, month in enumerate([(2026, 8), (2026, 9), (2026, 10)] * 2):
            at = datetime(*month, 10 + i, tzinfo=UTC)
            row = old_event.objects.create(
                contact=contact, type="pricing_view", occurred_at=at, idempotency_key=f"k{i}"
            )
            made[row.pk] = (f"k{i}", at)
        first = min(made)
        backfilled = old_event.objects.create(
            contact=contact, type="stage_changed", occurred_at=datetime(2012, 5, 1, tzinfo=UTC),
            idempotency_key="crm-2012",
        )  # fmt: skip
        state.get_model("contacts", "EventHandlerFailure").objects.create(
            event_id=first, handler="journeys", last_error="boom", failed_at=NOW
        )
        assert not partitions_list(EVENTS)  # a plain table again
    finally:
        executor = MigrationExecutor(connection)
        with time_machine.travel(datetime(2026, 12, 7, tzinfo=UTC), tick=False):
            executor.migrate(executor.loader.graph.leaf_nodes())
    after = {e.pk: (e.idempotency_key, e.occurred_at) for e in Event.objects.all()}
    assert after == {**made, backfilled.pk: ("crm-2012", datetime(2012, 5, 1, tzinfo=UTC))}
    # 2012 is older than the 24 months made partitions: it waits in DEFAULT
    assert _partition_of(backfilled.pk) == "contacts_event_default"
    assert {_partition_of(pk)[-7:] for pk in made} == {"2026_08", "2026_09", "2026_10"}
    made[backfilled.pk] = ("crm-2012", backfilled.occurred_at)
    assert _keys() == sorted((key, pk) for pk, (key, _) in made.items())
    assert list(EventHandlerFailure.objects.values_list("event_id", flat=True)) == [first]
    newer = record_event(
        contact=contact, type="pricing_view", occurred_at=datetime.now(UTC), idempotency_key="new"
    )
    assert newer.event_id == max(made) + 1
    repeat = record_event(
        contact=contact, type="pricing_view", occurred_at=datetime.now(UTC), idempotency_key="k3"
    )
    assert (repeat.event_id, repeat.created) == (first + 3, False)
    names = [p.name for p in partitions_list(EVENTS)]
    assert names[0] == "contacts_event_p2024_12"
    assert names[-2] == "contacts_event_p2027_03"
    assert len(names) == 24 + 1 + 3 + 1  # back, this month, ahead, DEFAULT
    assert names[-1] == "contacts_event_default"


@pytest.mark.django_db
def test_nothing_points_at_events_with_a_database_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint"
            " WHERE confrelid = 'contacts_event'::regclass AND contype = 'f'"
        )
        assert cursor.fetchall() == []
    # Django still carries out on_delete: a signal forgets its event, a failure goes with it.
    contact = ContactFactory()
    event = record_event(
        contact=contact, type="pricing_view", occurred_at=NOW, idempotency_key="gone"
    ).event
    task = FollowUpTask.objects.create(
        contact=contact, signal_type="reply", reason_code="reply", reason="Replied",
        assignment="queue", sla_minutes=15, sla_clock="clock", warn_at=NOW, due_at=NOW,
    )  # fmt: skip
    signal = TaskSignal.objects.create(task=task, event=event, signal_type="reply", reason="r")
    EventHandlerFailure.objects.create(event=event, handler="h", last_error="e", failed_at=NOW)
    event.delete()
    signal.refresh_from_db()
    assert signal.event_id is None
    assert EventHandlerFailure.objects.count() == 0
