"""Races between engine workers that only a real database with row locks can show: many
workers advancing at once, two beats claiming at once, and a worker dying mid-run."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.journeys import services
from apps.journeys.engine import advance
from apps.journeys.engine.advance import enrollment_run, enrollments_advance_due
from apps.journeys.engine.claims import LEASE, enrollments_claim
from apps.journeys.models import Activity, Enrollment
from apps.journeys.services import enrollment_start
from apps.sends.models import OutboundMessage
from apps.sends.services.sweep import messages_sweep
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import MORNING, NIGHT
from tests.sends.conftest import fake_twilio  # noqa: F401  (a fixture)
from tests.threads import in_threads

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]

ENROLLMENTS = 200


class WorkerLost(BaseException):
    """The worker process dies: no `except Exception` of the engine gets to clean up."""


def die(*args, **kwargs):
    raise WorkerLost


@pytest.fixture
def beat_only(monkeypatch):
    """Enrollments wait for the beat: the after-commit hand-off of their first step is lost
    (as when the broker is down), which is what the beat is there for."""
    monkeypatch.setattr(services, "_advance_soon", lambda enrollment_id: None)


@pytest.fixture
def fast_sends(settings):
    settings.CUE_SEND_RATES = {"default": 100_000.0}


def reminder_journey():
    return journey_build(
        steps=[
            ("remind", "send_sms", {"template": sms_template().pk, "next": "pause"}),
            ("pause", "wait", {"days": 1}),
        ]
    )


def due_enrollments(journey, opted_in_contact, count: int = ENROLLMENTS) -> list[int]:
    return [
        enrollment_start(journey=journey, contact=opted_in_contact(phone=f"+1415555{i:04d}")).pk
        for i in range(count)
    ]


def assert_each_advanced_once_with_one_message(journey, ids: list[int]) -> None:
    where = Enrollment.objects.filter(pk__in=ids).values_list("state", "current_step__key")
    assert set(where) == {("waiting", "pause")}
    assert Activity.objects.filter(kind="error").count() == 0  # no deadlock, no failure
    sent = Activity.objects.filter(enrollment_id__in=ids, kind="message")
    assert sent.count() == len(ids)  # the send step ran once per enrollment
    keys = list(OutboundMessage.objects.filter(journey_id=journey.pk).values_list("send_key"))
    assert sorted(keys) == sorted((f"journey:{pk}:remind:1",) for pk in ids)


def test_it_advances_each_enrollment_once_when_many_workers_run_at_once(
    clock, beat_only, fast_sends, opted_in_contact
):
    journey = reminder_journey()
    ids = due_enrollments(journey, opted_in_contact)

    def worker(_):
        advanced = 0
        while batch := enrollments_advance_due(limit=10):
            advanced += batch
        return advanced

    assert sum(in_threads(8, worker)) == ENROLLMENTS
    assert_each_advanced_once_with_one_message(journey, ids)
    assert OutboundMessage.objects.filter(journey_id=journey.pk, status="delivered").count() == (
        ENROLLMENTS
    )


def test_two_beats_claiming_at_once_never_share_an_enrollment(
    clock, beat_only, fast_sends, opted_in_contact
):
    journey = reminder_journey()
    ids = due_enrollments(journey, opted_in_contact)

    def beat(_):
        token = enrollments_claim(limit=150)
        claimed = set(Enrollment.objects.filter(claim_token=token).values_list("pk", flat=True))
        return claimed, sum(enrollment_run(enrollment_id=pk, token=token) for pk in claimed)

    (first, first_ran), (second, second_ran) = in_threads(2, beat)
    assert first & second == set()
    assert first | second == set(ids)
    assert (first_ran, second_ran) == (len(first), len(second))
    assert_each_advanced_once_with_one_message(journey, ids)


def test_it_finishes_a_crashed_run_after_the_lease_with_one_provider_call(
    clock,
    beat_only,
    fake_twilio,  # noqa: F811
    opted_in_contact,
    monkeypatch,
):
    journey = reminder_journey()
    enrollment = enrollment_start(journey=journey, contact=opted_in_contact())
    token = enrollments_claim()

    with monkeypatch.context() as patch:
        patch.setattr(advance, "_move_to", die)  # right after the send step ran
        with pytest.raises(WorkerLost):
            enrollment_run(enrollment_id=enrollment.pk, token=token)
    # The run's transaction died with it: no message, no provider call, the lease holds.
    assert OutboundMessage.objects.filter(journey_id=journey.pk).count() == 0
    assert fake_twilio.messages_sent() == []
    enrollment.refresh_from_db()
    assert (enrollment.claim_token, enrollment.claimed_until) == (token, MIDDAY + LEASE)
    assert enrollments_advance_due() == 0

    clock.shift(LEASE + timedelta(seconds=1))
    assert enrollments_advance_due() == 1
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert (message.send_key, message.status) == (f"journey:{enrollment.pk}:remind:1", "sent")
    assert len(fake_twilio.messages_sent()) == 1
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "pause")


def test_a_run_repeated_after_a_crash_reuses_the_message_that_already_went_out(
    beat_only,
    fake_twilio,  # noqa: F811
    opted_in_contact,
    monkeypatch,
):
    journey = reminder_journey()
    with time_machine.travel(NIGHT, tick=False) as traveller:
        enrollment = enrollment_start(journey=journey, contact=opted_in_contact())
        assert enrollments_advance_due() == 1  # quiet hours: deferred; it waits for it
        [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
        assert message.status == "deferred"
        traveller.move_to(MORNING)
        messages_sweep()  # released and dispatched: the provider has it
        assert len(fake_twilio.messages_sent()) == 1

        token = enrollments_claim()  # the enrollment wakes to see its message went out
        with monkeypatch.context() as patch:
            patch.setattr(advance, "_move_to", die)
            with pytest.raises(WorkerLost):
                enrollment_run(enrollment_id=enrollment.pk, token=token)
        assert enrollments_advance_due() == 0  # still leased to the dead worker

        traveller.shift(LEASE + timedelta(seconds=1))
        assert enrollments_advance_due() == 1
    [again] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert (again.pk, again.status) == (message.pk, "sent")
    assert len(fake_twilio.messages_sent()) == 1
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "pause")
