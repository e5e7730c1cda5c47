"""On PostgreSQL messages live in monthly partitions; the send key and the provider sid
stay unique (invariants 5 and 6) through key tables, also under concurrency, and the
migration converts a table that already holds rows. SQLite keeps one plain table."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.core.partitions import partitions_extend, partitions_list
from apps.sends.models import MESSAGES, OutboundMessage
from apps.sends.services.messages import message_create
from tests.threads import in_threads

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="partitions are PostgreSQL's"
)

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ALL_DAY = (time(0), time(23, 59, 59))
BODY = "Acme: new route planner tips inside. Reply STOP to opt out."
BEFORE = ("sends", "0009_message_links_without_db_constraint")


def _partition_of(message_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM sends_outboundmessage WHERE id = %s",
            [message_id],
        )
        return cursor.fetchone()[0]


def _keys(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value, row_id FROM {MESSAGES.table}_unique_{table} ORDER BY value")
        return cursor.fetchall()


def _message(key: str, **fields) -> OutboundMessage:
    return OutboundMessage.objects.create(
        send_key=key, to_address="+13125550100", body=BODY, category="marketing",
        origin="journey", **fields,
    )  # fmt: skip


@pytest.mark.django_db
def test_it_puts_each_message_in_its_months_partition_and_the_rest_in_default():
    partitions_extend(today=date(2026, 1, 1))
    with time_machine.travel(datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), tick=False):
        february = _message("feb")
    with time_machine.travel(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), tick=False):
        march = _message("mar")
    with time_machine.travel(datetime(2019, 5, 1, tzinfo=UTC), tick=False):
        old = _message("old")
    assert _partition_of(february.pk) == "sends_outboundmessage_p2026_02"
    assert _partition_of(march.pk) == "sends_outboundmessage_p2026_03"
    assert _partition_of(old.pk) == "sends_outboundmessage_default"
    assert OutboundMessage.objects.get(pk=march.pk).send_key == "mar"


@pytest.mark.django_db
def test_it_creates_the_coming_months_ahead_once():
    with time_machine.travel(datetime(2031, 6, 15, tzinfo=UTC), tick=False):
        created = partitions_extend(today=date(2031, 6, 15))
        again = partitions_extend(today=date(2031, 6, 15))
    expected = [f"sends_outboundmessage_p2031_{m:02d}" for m in (6, 7, 8, 9)]
    assert [name for name in created if name.startswith("sends_outboundmessage")] == expected
    assert again == []
    months = [(p.start, p.end) for p in partitions_list(MESSAGES) if p.name in expected]
    assert months[0] == (datetime(2031, 6, 1, tzinfo=UTC), datetime(2031, 7, 1, tzinfo=UTC))


@pytest.mark.django_db
def test_it_refuses_a_second_message_with_a_send_key_or_a_provider_sid_and_frees_them_on_delete():
    first, second = _message("key-1", provider_sid="SM1"), _message("key-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        _message("key-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessage.objects.filter(pk=second.pk).update(provider_sid="SM1")
    assert OutboundMessage.objects.filter(send_key="key-1").count() == 1
    assert _keys("provider_sid") == [("SM1", first.pk)]
    first.delete()
    again = _message("key-1", provider_sid="SM1")
    assert _keys("send_key") == [("key-1", again.pk), ("key-2", second.pk)]


def _unsaved(key: str) -> OutboundMessage:
    return OutboundMessage(
        send_key=key, to_address="+13125550100", body=BODY, category="marketing",
        origin="journey",
    )  # fmt: skip


@pytest.mark.django_db
def test_a_batch_insert_claims_every_key_and_refuses_whole_if_one_is_taken_or_twice_in_it():
    made = OutboundMessage.objects.bulk_create([_unsaved(f"b{i}") for i in range(3)])
    taken, twice = r"Key \(send_key\)=\(b1\) already", r"Key \(send_key\)=\(twice\) already"
    with pytest.raises(IntegrityError, match=taken), transaction.atomic():
        OutboundMessage.objects.bulk_create([_unsaved("b9"), _unsaved("b1")])
    with pytest.raises(IntegrityError, match=twice), transaction.atomic():
        OutboundMessage.objects.bulk_create([_unsaved("twice"), _unsaved("twice")])
    assert _keys("send_key") == [(f"b{i}", m.pk) for i, m in enumerate(made)]
    assert OutboundMessage.objects.count() == 3
    assert _keys("provider_sid") == []


@pytest.mark.django_db
def test_a_batch_delete_releases_the_keys_of_the_rows_it_deleted_only():
    made = OutboundMessage.objects.bulk_create([_unsaved(f"d{i}") for i in range(4)])
    OutboundMessage.objects.filter(pk=made[1].pk).update(provider_sid="SMd1")
    OutboundMessage.objects.filter(pk__in=[m.pk for m in made[:3]]).delete()
    assert _keys("send_key") == [("d3", made[3].pk)]
    assert _keys("provider_sid") == []
    again = OutboundMessage.objects.bulk_create([_unsaved("d0"), _unsaved("d1")])
    assert _keys("send_key") == [("d0", again[0].pk), ("d1", again[1].pk), ("d3", made[3].pk)]


@pytest.mark.django_db(transaction=True)
def test_racing_batches_that_share_send_keys_store_each_key_once():
    def insert(i):
        keys = [f"shared-{n}" for n in range(20)] + [f"own-{i}-{n}" for n in range(5)]
        try:
            with transaction.atomic():
                OutboundMessage.objects.bulk_create([_unsaved(k) for k in reversed(keys[i:])])
            return "made"
        except IntegrityError:
            return "refused"

    outcomes = in_threads(6, insert)
    assert outcomes.count("made") == 1
    (winner,) = [i for i, outcome in enumerate(outcomes) if outcome == "made"]
    stored = sorted(OutboundMessage.objects.values_list("send_key", flat=True))
    expected = [f"shared-{n}" for n in range(winner, 20)] + [f"own-{winner}-{n}" for n in range(5)]
    assert stored == sorted(expected)
    assert [value for value, _ in _keys("send_key")] == sorted(expected)


@pytest.mark.django_db
def test_a_message_moved_to_another_month_keeps_its_keys():
    partitions_extend(today=date(2026, 1, 1))
    with time_machine.travel(datetime(2026, 3, 5, tzinfo=UTC), tick=False):
        message = _message("moving", provider_sid="SM9")
    february = datetime(2026, 2, 5, tzinfo=UTC)
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=february)
    assert _partition_of(message.pk) == "sends_outboundmessage_p2026_02"
    assert _keys("send_key") == [("moving", message.pk)]
    assert _keys("provider_sid") == [("SM9", message.pk)]
    with pytest.raises(IntegrityError), transaction.atomic():
        _message("moving")


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_message_and_one_provider_call_when_eight_workers_race_one_send_key(
    fake_twilio, opted_in_contact, settings
):
    settings.CUE_QUIET_HOURS_DEFAULT = ALL_DAY
    contact = opted_in_contact()

    def create(i):
        return message_create(
            send_key="race", origin="journey", category="marketing", contact=contact, body=BODY
        ).pk

    with time_machine.travel(NOON, tick=True):
        ids = in_threads(8, create)
    assert len(set(ids)) == 1
    assert OutboundMessage.objects.filter(send_key="race").count() == 1
    assert len(fake_twilio.messages_sent()) == 1
    assert _keys("send_key") == [("race", ids[0])]


@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_a_table_that_holds_rows_across_three_months():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps.get_model("sends", "OutboundMessage")
        made = {}
        for i, month in enumerate([(2026, 8), (2026, 9), (2026, 10)] * 2):
            row = old.objects.create(
                send_key=f"k{i}", provider_sid=f"SM{i}" if i % 2 else None, to_address="+1",
                body=BODY, category="marketing", origin="journey",
            )  # fmt: skip
            at = datetime(*month, 10 + i, tzinfo=UTC)
            old.objects.filter(pk=row.pk).update(created_at=at)
            made[row.pk] = (f"k{i}", at)
        assert not partitions_list(MESSAGES)  # a plain table again
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    after = {m.pk: (m.send_key, m.created_at) for m in OutboundMessage.objects.all()}
    assert after == made
    assert {_partition_of(pk)[-7:] for pk in made} == {"2026_08", "2026_09", "2026_10"}
    assert len(_keys("send_key")) == 6
    first = min(made)
    assert _keys("provider_sid") == [("SM1", first + 1), ("SM3", first + 3), ("SM5", first + 5)]
    newer = _message("new")
    assert newer.pk == max(made) + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        _message("k3")
    names = [p.name for p in partitions_list(MESSAGES)]
    assert names[0] == "sends_outboundmessage_p2026_08"
    assert names[-1] == "sends_outboundmessage_default"
