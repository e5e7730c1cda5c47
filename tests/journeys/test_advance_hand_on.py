"""A large step does not wait for beat's ticks: the advance task hands the next run on at
once when a batch comes back full (tasks run eagerly here, so a handed-on run runs inside
the call), and hands nothing on once the work is done."""

import pytest

from apps.journeys import tasks
from apps.journeys.models import Enrollment, EnrollmentState
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build
from tests.journeys.test_batch_statements import due_enrollments

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed_on(monkeypatch):
    """Every run handed on, in order; each is still sent (and so run)."""
    sent = []

    def task_send(task, *args):
        sent.append(task.name)
        return task.delay(*args)

    monkeypatch.setattr(tasks, "task_send", task_send)
    monkeypatch.setattr(tasks, "ADVANCE_BATCH", 2)
    monkeypatch.setattr(tasks, "ADVANCE_BATCHES_PER_RUN", 1)
    return sent


def waiting_journey(contacts: int):
    """Enrollments due on a one-hour wait: each run moves its enrollment to sleep."""
    journey = journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )
    due_enrollments(journey, ContactFactory.create_batch(contacts))
    return journey


def sleeping() -> int:
    return Enrollment.objects.filter(state=EnrollmentState.WAITING).count()


def test_a_full_batch_hands_the_rest_on_until_every_enrollment_has_run(
    clock, handed_on, django_capture_on_commit_callbacks
):
    waiting_journey(5)

    with django_capture_on_commit_callbacks(execute=True):
        advanced = tasks.enrollments_advance()

    assert advanced == 2  # its own batch; the runs it handed on did the other three
    assert sleeping() == 5
    assert Enrollment.objects.filter(state=EnrollmentState.ACTIVE).count() == 0
    assert Enrollment.objects.exclude(claim_token="").count() == 0
    # The 1st run (2) hands on a 2nd and its follow-up; the 2nd (2) does the same; of those
    # three, one finds the last enrollment and the others none.
    assert handed_on == ["journeys.enrollments_advance"] * 4


def test_a_run_that_finds_less_than_a_full_batch_hands_nothing_on(
    clock, handed_on, django_capture_on_commit_callbacks
):
    waiting_journey(1)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tasks.enrollments_advance() == 1
        assert tasks.enrollments_advance() == 0

    assert sleeping() == 1
    assert (handed_on, callbacks) == ([], [])


def test_a_run_whose_budget_is_spent_before_its_first_batch_hands_nothing_on(
    clock, handed_on, monkeypatch, django_capture_on_commit_callbacks
):
    waiting_journey(3)
    monkeypatch.setattr(tasks, "ADVANCE_BUDGET_SECONDS", 0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tasks.enrollments_advance() == 0

    assert sleeping() == 0
    assert (handed_on, callbacks) == ([], [])
