"""Only CUE_ADVANCE_RUNS advance runs work at once: a run holds a slot (a row taken by a
conditional UPDATE) or does nothing, lets it go however it ends, and a slot whose holder
died is free again once its lease lapses."""

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.journeys import tasks
from apps.journeys.engine import slots
from apps.journeys.engine.slots import advance_slot_release, advance_slot_take
from apps.journeys.models import AdvanceSlot, Enrollment, EnrollmentState
from tests.journeys.test_advance_hand_on import sleeping, waiting_journey
from tests.threads import in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_run(settings):
    settings.CUE_ADVANCE_RUNS = 1


def held() -> list[int]:
    return sorted(AdvanceSlot.objects.exclude(held_by="").values_list("number", flat=True))


def test_it_takes_each_slot_once_and_none_past_the_bound(settings):
    settings.CUE_ADVANCE_RUNS = 2

    first, second, third = advance_slot_take(), advance_slot_take(), advance_slot_take()

    assert (first != second, third) == (True, None)
    assert held() == [0, 1]


def test_a_slot_let_go_is_taken_again(one_run):
    first = advance_slot_take()
    advance_slot_release(first)

    again = advance_slot_take()

    assert again not in (None, first)
    assert held() == [0]


def test_a_slot_whose_holder_died_is_free_once_its_lease_lapses(clock, one_run):
    advance_slot_take()  # never let go
    clock.shift(slots._lease() - timedelta(seconds=1))
    assert advance_slot_take() is None

    clock.shift(timedelta(seconds=2))

    assert advance_slot_take() is not None
    assert held() == [0]


def test_a_run_finding_every_slot_held_advances_nothing_and_hands_nothing_on(
    clock, one_run, monkeypatch, django_capture_on_commit_callbacks
):
    waiting_journey(3)
    holder = advance_slot_take()
    handed_on = []
    monkeypatch.setattr(tasks, "task_send", lambda task, *args: handed_on.append(task.name))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tasks.enrollments_advance() == 0

    assert sleeping() == 0
    assert Enrollment.objects.filter(state=EnrollmentState.ACTIVE).count() == 3
    assert (handed_on, callbacks) == ([], [])
    assert AdvanceSlot.objects.get(number=0).held_by == holder


def test_a_run_lets_its_slot_go_when_it_is_done(clock, one_run):
    waiting_journey(3)

    assert tasks.enrollments_advance() == 3

    assert (sleeping(), held()) == (3, [])


def test_a_run_lets_its_slot_go_when_its_time_limit_stops_it(clock, one_run, monkeypatch):
    waiting_journey(3)

    def stopped(**kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(tasks, "enrollments_advance_due", stopped)

    with pytest.raises(SoftTimeLimitExceeded):
        tasks.enrollments_advance()

    assert (sleeping(), held()) == (0, [])


def test_the_first_batch_hands_on_inside_its_slot_and_the_follow_up_after_it(
    clock, one_run, monkeypatch
):
    """The run handed on after the first batch looks for another slot; the follow-up is
    handed on once the slot is free again, so that it can take it."""
    waiting_journey(5)
    monkeypatch.setattr(tasks, "ADVANCE_BATCH", 2)
    monkeypatch.setattr(tasks, "ADVANCE_BATCHES_PER_RUN", 2)
    slots_held_at_each_hand_on = []
    monkeypatch.setattr(
        tasks, "_advance_hand_on", lambda: slots_held_at_each_hand_on.append(held())
    )

    assert tasks.enrollments_advance() == 4

    assert slots_held_at_each_hand_on == [[0], []]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks")
def test_runs_taking_slots_at_once_never_share_one_and_never_pass_the_bound(settings):
    settings.CUE_ADVANCE_RUNS = 3

    tokens = in_threads(8, lambda i: advance_slot_take())

    won = [token for token in tokens if token is not None]
    assert len(won) == len(set(won)) == 3
    assert sorted(AdvanceSlot.objects.exclude(held_by="").values_list("held_by", flat=True)) == (
        sorted(won)
    )
