"""The advance task's work is bounded: no chunk starts after its time budget, and a Celery
soft time limit met inside a chunk rolls that chunk back whole; either way the enrollments
claimed but not run are handed back at once (not left to wait out their lease)."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from apps.journeys.engine import advance
from apps.journeys.engine.advance import CHUNK, enrollments_advance_due
from apps.journeys.models import Activity, Enrollment, EnrollmentState
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build
from tests.journeys.test_batch_statements import due_enrollments

pytestmark = pytest.mark.django_db

COUNT = 2 * CHUNK + 50  # three chunks


@pytest.fixture
def waiting_journey(clock):
    """COUNT enrollments due on a one-hour wait: each run moves its enrollment to sleep."""
    journey = journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )
    due_enrollments(journey, ContactFactory.create_batch(COUNT))
    return journey


def states() -> dict[str, int]:
    sleeping = Enrollment.objects.filter(state=EnrollmentState.WAITING).count()
    due = Enrollment.objects.filter(state=EnrollmentState.ACTIVE).count()
    claimed = Enrollment.objects.exclude(claim_token="").exclude(claimed_until=None).count()
    return {"ran": sleeping, "due": due, "still_claimed": claimed}


class Clock:
    """time.monotonic for the advance: `ticks` readings, then far past any budget."""

    def __init__(self, ticks: int):
        self.readings = 0
        self.ticks = ticks

    def __call__(self) -> float:
        self.readings += 1
        return 0.0 if self.readings <= self.ticks else 10_000.0


def test_no_chunk_starts_after_the_budget_and_the_rest_are_released(waiting_journey, monkeypatch):
    # The deadline is read, then the first chunk's check; every later check is past it
    monkeypatch.setattr(advance.time, "monotonic", Clock(ticks=2))

    advanced = enrollments_advance_due(limit=COUNT, budget=30)

    assert advanced == CHUNK
    assert states() == {"ran": CHUNK, "due": COUNT - CHUNK, "still_claimed": 0}
    monkeypatch.undo()
    assert enrollments_advance_due(limit=COUNT) == COUNT - CHUNK  # the next run takes them
    assert states() == {"ran": COUNT, "due": 0, "still_claimed": 0}


def test_a_soft_time_limit_inside_a_chunk_rolls_it_back_and_releases_the_rest(
    waiting_journey, monkeypatch
):
    chunks = []
    real = advance.messages_for_sends

    def interrupted_in_the_second_chunk(enrollments, now):
        chunks.append(len(enrollments))
        if len(chunks) == 2:
            raise SoftTimeLimitExceeded()
        return real(enrollments, now)

    monkeypatch.setattr(advance, "messages_for_sends", interrupted_in_the_second_chunk)

    with pytest.raises(SoftTimeLimitExceeded):
        enrollments_advance_due(limit=COUNT)

    # The first chunk committed; the second rolled back whole; nothing stays claimed
    assert chunks == [CHUNK, CHUNK]
    assert states() == {"ran": CHUNK, "due": COUNT - CHUNK, "still_claimed": 0}
    assert Activity.objects.filter(enrollment__state=EnrollmentState.ACTIVE).count() == 0
    assert Enrollment.objects.filter(next_run_at__lte=timezone.now()).count() == COUNT - CHUNK
