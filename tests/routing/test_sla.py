"""The SLA clock: warn the owner before the breach, mark it, escalate it — each once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import SYSTEM_USERNAME
from apps.routing.models import FollowUpTask, TaskEscalation, TaskNotification
from apps.routing.services import signal_route, sla_sweep, task_start
from tests.factories import ContactFactory
from tests.routing.conftest import TUESDAY_11_NY

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(make_rule):
    return make_rule(name="Follow-ups", signal_types=["journey_step"], sla_minutes=15)


def route(contact, reason="Call after the webinar") -> FollowUpTask:
    return signal_route(contact=contact, signal_type="journey_step", reason=reason, context={})


def escalations(task) -> list[str]:
    return list(task.escalations.order_by("id").values_list("kind", flat=True))


def notified(task) -> list[tuple[str, str]]:
    rows = task.notifications.order_by("id").values_list("kind", "recipient__username")
    return list(rows)


def test_it_warns_the_owner_at_80_percent_and_only_once(now, rule, sam, manager):
    task = route(ContactFactory(owner=sam))
    now.shift(11 * 60 + 59)
    assert sla_sweep() == {"warned": 0, "breached": 0}
    now.shift(1)  # 12 of 15 minutes
    assert sla_sweep() == {"warned": 1, "breached": 0}
    assert sla_sweep() == {"warned": 0, "breached": 0}
    task.refresh_from_db()
    assert (task.warned_at, task.breached_at) == (TUESDAY_11_NY + timedelta(minutes=12), None)
    assert escalations(task) == ["warning"]
    assert notified(task) == [("assigned", "sam"), ("warning", "sam")]


def test_it_marks_the_breach_tells_the_manager_and_never_twice(
    now, rule, sam, manager, django_capture_on_commit_callbacks
):
    task = route(ContactFactory(owner=sam, first_name="Priya", last_name="N"))
    now.shift(12 * 60)
    sla_sweep()
    now.shift(3 * 60)  # due
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == {"warned": 0, "breached": 1}
    now.shift(3600)
    assert sla_sweep() == {"warned": 0, "breached": 0}
    task.refresh_from_db()
    assert (task.breached_at, task.owner) == (TUESDAY_11_NY + timedelta(minutes=15), sam)
    assert escalations(task) == ["warning", "breach"]
    assert notified(task) == [("assigned", "sam"), ("warning", "sam"), ("breach", "morgan")]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([manager.email], "SLA breached: Priya N — Call after the webinar")
    ]


def test_it_moves_a_breached_task_to_the_queue_when_the_rule_says_so(now, rule, sam, manager):
    rule.reassign_on_breach = True
    rule.save()
    task = route(ContactFactory(owner=sam))
    now.shift(20 * 60)  # past due without a sweep in between: no warning, just the breach
    assert sla_sweep() == {"warned": 0, "breached": 1}
    task.refresh_from_db()
    assert (task.owner, task.assignment, task.team) == (None, "queue", sam.team)
    assert escalations(task) == ["breach", "requeued"]
    assert TaskEscalation.objects.get(kind="requeued").owner == sam
    assert sla_sweep() == {"warned": 0, "breached": 0}


def test_it_records_the_sweep_in_the_task_history_as_the_system(now, rule, sam, manager):
    rule.reassign_on_breach = True
    rule.save()
    task = route(ContactFactory(owner=sam))
    now.shift(12 * 60)
    sla_sweep()
    now.shift(3 * 60)
    sla_sweep()
    history = list(
        task.history.order_by("history_id").values_list(
            "history_change_reason", "history_user__username", "owner_id", "breached_at"
        )
    )
    breached = TUESDAY_11_NY + timedelta(minutes=15)
    assert history == [
        ("Routed by rule Follow-ups", SYSTEM_USERNAME, sam.pk, None),
        ("SLA warning sent", SYSTEM_USERNAME, sam.pk, None),
        ("SLA breached; escalated", SYSTEM_USERNAME, None, breached),
    ]


def test_a_touched_task_neither_warns_nor_breaches(now, rule, sam, manager):
    task = route(ContactFactory(owner=sam))
    now.shift(5 * 60)
    task_start(task=task, actor=sam)
    now.shift(3600)
    assert sla_sweep() == {"warned": 0, "breached": 0}
    assert escalations(task) == []


def test_a_breach_in_the_queue_goes_to_the_manager(now, make_rule, sam, manager):
    make_rule(signal_types=["journey_step"], strategy="queue", sla_minutes=5)
    task = route(ContactFactory(owner=sam))
    now.shift(5 * 60)
    sla_sweep()
    assert notified(task) == [("queued", "morgan"), ("breach", "morgan")]


def test_an_escalation_of_a_kind_happens_once_by_constraint(rule, sam):
    task = route(ContactFactory(owner=sam))
    TaskEscalation.objects.create(task=task, kind="breach", at=task.due_at)
    with pytest.raises(IntegrityError):
        TaskEscalation.objects.create(task=task, kind="breach", at=task.due_at)


def test_the_sweep_reads_due_tasks_set_based(now, rule, sam, riley, manager):
    # The number of queries does not grow with the number of due tasks.
    def sweep_queries(count: int) -> int:
        for _ in range(count):
            route(ContactFactory(owner=None))
        now.shift(20 * 60)
        with CaptureQueriesContext(connection) as queries:
            assert sla_sweep()["breached"] == count
        return len(queries)

    assert sweep_queries(3) == sweep_queries(30)


def test_business_hours_stop_the_clock_overnight_and_at_weekends(now, make_rule, sam):
    # Friday 16:55 in New York; Sam works 9–17 weekdays
    now.move_to(datetime(2026, 3, 13, 20, 55, tzinfo=UTC))
    make_rule(signal_types=["journey_step"], sla_clock="business", sla_minutes=15)
    task = route(ContactFactory(owner=sam))
    # 5 minutes on Friday, 10 on Monday morning (EDT)
    assert task.due_at == datetime(2026, 3, 16, 13, 10, tzinfo=UTC)
    assert task.warn_at == datetime(2026, 3, 16, 13, 7, tzinfo=UTC)  # 12 minutes in


def test_a_queued_task_counts_the_default_business_week(now, make_rule, settings):
    now.move_to(datetime(2026, 3, 14, 15, 0, tzinfo=UTC))  # Saturday
    make_rule(signal_types=["journey_step"], sla_clock="business", sla_minutes=60, strategy="queue")
    task = route(ContactFactory())
    # Monday 9:00 New York (EDT) plus an hour
    assert task.due_at == datetime(2026, 3, 16, 14, 0, tzinfo=UTC)


def test_notifications_whose_send_never_ran_are_sent_by_the_sweep(
    now, rule, sam, django_capture_on_commit_callbacks
):
    from apps.routing.tasks import sla_sweep_task

    route(ContactFactory(owner=sam))  # the after-commit send never runs in this test
    assert TaskNotification.objects.get().sent_at is None
    now.shift(60)
    assert sla_sweep_task()["notifications_requeued"] == 0  # not stale yet
    now.shift(120)
    assert sla_sweep_task()["notifications_requeued"] == 1
    assert TaskNotification.objects.get().sent_at == TUESDAY_11_NY + timedelta(minutes=3)
    assert len(mail.outbox) == 1


def test_the_sla_clock_runs_every_minute_from_a_schedule_declared_in_code():
    from django_celery_beat.models import PeriodicTask

    from apps.core.schedules import periodic_tasks_sync

    periodic_tasks_sync()
    clock = PeriodicTask.objects.get(name="cue: sla clock")
    assert (clock.task, clock.interval.every, clock.interval.period) == (
        "routing.sla_sweep",
        60,
        "seconds",
    )
