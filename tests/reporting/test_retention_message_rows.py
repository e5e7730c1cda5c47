"""Whole messages older than CUE_RETENTION_MESSAGE_ROW_DAYS go, with every row that points
at them; on PostgreSQL a month wholly older than that is dropped as a partition, and the
rest (the month the cutoff falls in, the DEFAULT partition, SQLite) is deleted row by row."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import override_settings

from apps.core.partitions import partitions_extend, partitions_list
from apps.reporting.models import Attribution, RetentionRun
from apps.reporting.services.retention import retention_prune
from apps.sends.models import (
    MESSAGE_LOG,
    MESSAGES,
    LinkClick,
    MessageEvent,
    OutboundMessage,
    TrackedLink,
)
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)  # 365 days before
ON_POSTGRESQL = connection.vendor == "postgresql"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


@pytest.fixture
def messages(scenario):
    """One message in each place the prune must reach or spare, each with a log row, a
    tracked link with a click and an attribution."""
    partitions_extend(today=date(2025, 5, 1))  # May to August 2025 (PostgreSQL)
    contact = scenario.contact()
    made = {}
    for name, day in [
        ("whole_old_month", "2025-05-10"),
        ("cutoff_month_older", "2025-06-10"),
        ("cutoff_month_newer", "2025-06-20"),
        ("default_partition_old", "2025-03-01"),
        ("recent", "2026-06-01"),
    ]:
        message = made[name] = scenario.message(contact, sent_at=at(day))
        scenario.decision(message, at(day), "allowed")
        scenario.click(message, at(day))
        Attribution.objects.create(
            kind="meeting_booked", conversion_id=1, contact_id=contact.pk, converted_at=at(day),
            message=message, touch_type="click", touched_at=at(day), journey_id=1, credit=1,
            model="last_touch", computed_at=at(day),
        )  # fmt: skip
    return made


def _left(model, messages) -> set[str]:
    names = {m.pk: name for name, m in messages.items()}
    field = "pk" if model is OutboundMessage else "message_id"
    if model is LinkClick:
        field = "link__message_id"
    return {names[pk] for pk in model.objects.values_list(field, flat=True)}


@override_settings(CUE_RETENTION_MESSAGE_ROW_DAYS=365)
def test_it_deletes_old_messages_with_everything_that_points_at_them(messages):
    with frozen(NOW):
        run = retention_prune()[-1]
    kept = {"cutoff_month_newer", "recent"}
    for model in (OutboundMessage, MessageEvent, TrackedLink, LinkClick, Attribution):
        assert _left(model, messages) == kept, model
    assert (run.target, run.rows, run.cutoff) == ("message_rows", 3, CUTOFF)
    # PostgreSQL drops May 2025 whole; the rest goes row by row
    # PostgreSQL drops May 2025 of the log whole too (not counted in the messages' rows)
    expected = (
        {"dropped": 1, "deleted": 2, "log_dropped": 1}
        if ON_POSTGRESQL
        else {"dropped": 0, "deleted": 3, "log_dropped": 0}
    )
    assert run.detail == expected


@override_settings(CUE_RETENTION_MESSAGE_ROW_DAYS=365)
@pytest.mark.skipif(not ON_POSTGRESQL, reason="partitions are PostgreSQL's")
def test_it_keeps_a_month_of_the_log_that_holds_an_entry_of_a_message_that_stays(
    messages, scenario
):
    kept = messages["cutoff_month_newer"]
    early = scenario.decision(kept, at("2025-05-20"), "allowed")  # a clock that ran behind
    with frozen(NOW):
        run = retention_prune()[-1]
    assert "sends_messageevent_p2025_05" in {p.name for p in partitions_list(MESSAGE_LOG)}
    assert run.detail["log_dropped"] == 0
    assert MessageEvent.objects.filter(pk=early.pk).exists()
    assert _left(MessageEvent, messages) == {"cutoff_month_newer", "recent"}


@override_settings(CUE_RETENTION_MESSAGE_ROW_DAYS=365)
@pytest.mark.skipif(not ON_POSTGRESQL, reason="partitions are PostgreSQL's")
def test_it_drops_the_months_wholly_older_than_the_cutoff_and_keeps_the_rest(messages):
    with frozen(NOW):
        retention_prune()
    names = [p.name for p in partitions_list(MESSAGES)]
    assert "sends_outboundmessage_p2025_05" not in names
    assert names[:3] == [
        "sends_outboundmessage_p2025_06",
        "sends_outboundmessage_p2025_07",
        "sends_outboundmessage_p2025_08",
    ]
    assert names[-1] == "sends_outboundmessage_default"


@override_settings(CUE_RETENTION_MESSAGE_ROW_DAYS=365)
def test_it_releases_the_send_keys_of_what_it_deleted(messages, scenario):
    old, kept = messages["whole_old_month"], messages["cutoff_month_newer"]
    with frozen(NOW):
        retention_prune()
    again = scenario.message(old.contact, sent_at=NOW)
    OutboundMessage.objects.filter(pk=again.pk).update(send_key=old.send_key)
    assert OutboundMessage.objects.get(send_key=old.send_key).pk == again.pk
    assert OutboundMessage.objects.get(send_key=kept.send_key).pk == kept.pk


def test_it_keeps_every_message_when_the_setting_is_zero(messages):
    with frozen(NOW):
        runs = retention_prune()
    assert OutboundMessage.objects.count() == 5
    assert "message_rows" not in {run.target for run in runs}
    assert not RetentionRun.objects.filter(target="message_rows").exists()
    if ON_POSTGRESQL:
        assert "sends_outboundmessage_p2025_05" in {p.name for p in partitions_list(MESSAGES)}
