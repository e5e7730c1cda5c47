"""On PostgreSQL a message's log (MessageEvent) lives in monthly partitions of its time; the
dedupe key that makes a repeated webhook a no-op (invariant 6) stays unique across them,
also under concurrency, and the migration converts a log that already holds rows."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.core.partitions import partitions_extend, partitions_list
from apps.sends.models import MESSAGE_LOG, MessageEvent, OutboundMessage
from tests.threads import in_threads

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="partitions are PostgreSQL's"
)

BODY = "Acme: new route planner tips inside. Reply STOP to opt out."
BEFORE = ("sends", "0013_message_key_triggers_per_statement")


def _partition_of(entry_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM sends_messageevent WHERE id = %s", [entry_id]
        )
        return cursor.fetchone()[0]


def _keys() -> list[tuple]:
    with connection.cursor() as cursor:
        table = MESSAGE_LOG.key_table("dedupe_key")
        cursor.execute(f"SELECT value, row_id FROM {table} ORDER BY value")
        return cursor.fetchall()


def _message(key: str = "m1") -> OutboundMessage:
    return OutboundMessage.objects.create(
        send_key=key, to_address="+13125550100", body=BODY, category="marketing",
        origin="journey",
    )  # fmt: skip


def _entry(message, at: datetime, dedupe_key: str | None) -> MessageEvent:
    with time_machine.travel(at, tick=False):
        return MessageEvent.objects.create(
            message=message, kind="provider", status="delivered", dedupe_key=dedupe_key
        )


@pytest.mark.django_db
def test_a_repeated_callback_in_another_month_is_refused_and_entries_without_a_key_are_not():
    partitions_extend(today=date(2026, 1, 1))
    message = _message()
    first = _entry(message, datetime(2026, 1, 31, 23, 59, tzinfo=UTC), "twilio:SM1:delivered")
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(message, datetime(2026, 2, 1, tzinfo=UTC), "twilio:SM1:delivered")
    plain = [_entry(message, datetime(2026, 2, 2, tzinfo=UTC), None) for _ in range(2)]
    assert _partition_of(first.pk) == "sends_messageevent_p2026_01"
    assert {_partition_of(e.pk) for e in plain} == {"sends_messageevent_p2026_02"}
    assert _keys() == [("twilio:SM1:delivered", first.pk)]
    assert MessageEvent.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_callbacks_racing_one_dedupe_key_log_it_once():
    message = _message()

    def log(i):
        try:
            with transaction.atomic():
                MessageEvent.objects.create(
                    message=message, kind="provider", status="sent", dedupe_key="twilio:raced"
                )
            return "logged"
        except IntegrityError:
            return "refused"

    assert sorted(in_threads(6, log)) == ["logged"] + ["refused"] * 5
    assert MessageEvent.objects.filter(dedupe_key="twilio:raced").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_a_log_that_holds_rows_across_three_months():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        state = executor.loader.project_state([BEFORE]).apps
        message = state.get_model("sends", "OutboundMessage").objects.create(
            send_key="m", to_address="+1", body=BODY, category="marketing", origin="journey"
        )
        old = state.get_model("sends", "MessageEvent")
        made = {}
        for i, month in enumerate([(2026, 8), (2026, 9), (2026, 10)] * 2):
            row = old.objects.create(
                message_id=message.pk, kind="provider", dedupe_key=f"d{i}" if i % 2 else None
            )
            at = datetime(*month, 10 + i, tzinfo=UTC)
            old.objects.filter(pk=row.pk).update(at=at)
            made[row.pk] = (f"d{i}" if i % 2 else None, at)
        assert not partitions_list(MESSAGE_LOG)  # a plain table again
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    after = {e.pk: (e.dedupe_key, e.at) for e in MessageEvent.objects.all()}
    assert after == made
    assert {_partition_of(pk)[-7:] for pk in made} == {"2026_08", "2026_09", "2026_10"}
    first = min(made)
    assert _keys() == [("d1", first + 1), ("d3", first + 3), ("d5", first + 5)]
    newer = MessageEvent.objects.create(message_id=message.pk, kind="provider", dedupe_key="new")
    assert newer.pk == max(made) + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageEvent.objects.create(message_id=message.pk, kind="provider", dedupe_key="d3")
    names = [p.name for p in partitions_list(MESSAGE_LOG)]
    assert names[0] == "sends_messageevent_p2026_08"
    assert names[-1] == "sends_messageevent_default"
