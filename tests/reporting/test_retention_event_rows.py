"""Whole events that occurred before CUE_RETENTION_EVENT_ROW_DAYS go, with their handler
failures, and what they started forgets them; on PostgreSQL a month wholly older than that
is dropped as a partition, and the rest (the month the cutoff falls in, the DEFAULT
partition, SQLite) is deleted row by row."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import override_settings

from apps.contacts.events import record_event
from apps.contacts.models import EVENTS, Event, EventHandlerFailure
from apps.core.partitions import partitions_extend, partitions_list
from apps.reporting.models import RetentionRun
from apps.reporting.services.retention import retention_prune
from apps.routing.models import FollowUpTask, TaskSignal
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)  # 365 days before
ON_POSTGRESQL = connection.vendor == "postgresql"
PLACES = [
    ("whole_old_month", "2025-05-10"),
    ("cutoff_month_older", "2025-06-10"),
    ("cutoff_month_newer", "2025-06-20"),
    ("default_partition_old", "2019-03-01"),  # before any month a migration test makes
    ("recent", "2026-06-01"),
]


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


@pytest.fixture
def events(scenario):
    """One event in each place the prune must reach or spare, each with a handler failure,
    a follow-up task signal and an enrollment that name it."""
    partitions_extend(today=date(2025, 5, 1))  # May to August 2025 (PostgreSQL)
    contact = scenario.contact()
    task = FollowUpTask.objects.create(
        contact=contact, signal_type="reply", reason_code="reply", reason="Replied",
        assignment="queue", sla_minutes=15, sla_clock="clock", warn_at=NOW, due_at=NOW,
    )  # fmt: skip
    made = {}
    for name, day in PLACES:
        with frozen(NOW):
            event = record_event(
                contact=contact, type="pricing_view", occurred_at=at(day), idempotency_key=name
            ).event
        made[name] = event
        EventHandlerFailure.objects.create(event=event, handler=name, last_error="e", failed_at=NOW)
        TaskSignal.objects.create(task=task, event=event, signal_type="reply", reason=name)
        enrollment = scenario.enrollment(contact, at=at(day))
        enrollment.triggering_event = event
        enrollment.save(update_fields=["triggering_event"])
    return made


def _names(ids, events) -> set[str]:
    names = {event.pk: name for name, event in events.items()}
    return {names[pk] for pk in ids if pk is not None}


@override_settings(CUE_RETENTION_EVENT_ROW_DAYS=365)
def test_it_deletes_old_events_with_their_failures_and_what_they_started_forgets_them(events):
    with frozen(NOW):
        run = retention_prune()[-1]
    kept = {"cutoff_month_newer", "recent"}
    assert _names(Event.objects.values_list("pk", flat=True), events) == kept
    failures = EventHandlerFailure.objects.values_list("event_id", flat=True)
    assert _names(failures, events) == kept
    assert sorted(EventHandlerFailure.objects.values_list("handler", flat=True)) == sorted(kept)
    signals = dict(TaskSignal.objects.values_list("reason", "event_id"))
    assert {name for name, event_id in signals.items() if event_id is None} == {
        name for name, _ in PLACES
    } - kept
    assert _names(signals.values(), events) == kept
    starts = events["recent"].contact.enrollments.values_list("triggering_event_id", flat=True)
    assert sorted(starts, key=str) == sorted(
        [None, None, None, events["cutoff_month_newer"].pk, events["recent"].pk], key=str
    )
    assert (run.target, run.rows, run.cutoff) == ("event_rows", 3, CUTOFF)
    # PostgreSQL drops May 2025 whole; the rest goes row by row
    expected = {"dropped": 1, "deleted": 2} if ON_POSTGRESQL else {"dropped": 0, "deleted": 3}
    assert run.detail == expected


@override_settings(CUE_RETENTION_EVENT_ROW_DAYS=365)
def test_it_frees_the_keys_of_what_it_deleted(events):
    contact = events["recent"].contact
    with frozen(NOW):
        retention_prune()
        again = record_event(
            contact=contact, type="demo_request", occurred_at=NOW, idempotency_key="whole_old_month"
        )
        kept = record_event(
            contact=contact, type="demo_request", occurred_at=NOW, idempotency_key="recent"
        )
    assert again.created is True
    assert (kept.event_id, kept.created) == (events["recent"].pk, False)
    if ON_POSTGRESQL:
        names = [p.name for p in partitions_list(EVENTS)]
        assert "contacts_event_p2025_05" not in names
        assert names[0] == "contacts_event_p2025_06"


def test_it_keeps_every_event_when_the_setting_is_zero(events):
    with frozen(NOW):
        runs = retention_prune()
    assert Event.objects.count() == 5
    assert "event_rows" not in {run.target for run in runs}
    assert not RetentionRun.objects.filter(target="event_rows").exists()
