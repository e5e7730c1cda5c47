"""The engine: enroll on a trigger, run each kind of step, wait, end on a goal at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.contacts.events import record_event
from apps.journeys.engine.advance import enrollments_advance_due
from apps.journeys.models import Enrollment
from apps.sends.models import OutboundMessage
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db


def happen(contact, event_type, key, **properties):
    return record_event(
        contact=contact,
        type=event_type,
        occurred_at=timezone.now(),
        idempotency_key=key,
        properties=properties,
    )


def reminder_journey(**fields):
    remind = sms_template()
    nudge = sms_template(
        name="Webinar nudge", body="Cue Demo: the recording is ready. Reply STOP to opt out."
    )
    return journey_build(
        steps=[
            ("remind", "send_sms", {"template": remind.pk, "next": "wait"}),
            ("wait", "wait", {"hours": 24, "next": "nudge"}),
            ("nudge", "send_sms", {"template": nudge.pk}),
        ],
        exit_event_types=["meeting_booked"],
        **fields,
    )


def test_it_enrolls_on_the_trigger_and_sends_the_first_step(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey()
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
    enrollment = Enrollment.objects.get(journey=journey, contact=contact)
    [message] = OutboundMessage.objects.filter(enrollment_id=enrollment.pk)
    assert message.send_key == f"journey:{enrollment.pk}:remind:1"
    assert (message.status, message.journey_id) == ("delivered", journey.pk)
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "wait")
    assert enrollment.next_run_at == timezone.now() + timedelta(hours=24)
    kinds = list(enrollment.activity.values_list("kind", "step_key"))
    assert kinds == [
        ("entered", "remind"),
        ("message", "remind"),
        ("step", "wait"),
        ("wait", "wait"),
    ]


def test_it_does_not_enroll_on_an_event_of_another_type(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    reminder_journey()
    with django_capture_on_commit_callbacks(execute=True):
        happen(opted_in_contact(), "pricing_view", "pv-1")
    assert Enrollment.objects.count() == 0
    assert OutboundMessage.objects.count() == 0


def test_it_ends_on_the_goal_at_once_and_cancels_the_queued_message(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey()
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
    enrollment = Enrollment.objects.get(journey=journey)
    clock.shift(timedelta(hours=24))
    # The nudge is created but still queued (no dispatch here) when the meeting is booked.
    enrollments_advance_due()
    nudge = OutboundMessage.objects.get(send_key=f"journey:{enrollment.pk}:nudge:1")
    assert nudge.status == "queued"
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "meeting_booked", "mb-1")
    enrollment.refresh_from_db()
    nudge.refresh_from_db()
    # The journey had run to its end; its last message was still queued, and stops.
    assert enrollment.state == "completed"
    assert (nudge.status, nudge.reason_code) == ("canceled", "journey_goal")


def test_it_ends_during_a_wait_without_waiting_for_it_to_run_out(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey()
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
    clock.shift(timedelta(hours=1))  # an hour into the 24-hour wait
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "meeting_booked", "mb-1")
    enrollment = Enrollment.objects.get(journey=journey)
    assert enrollment.state == "goal_reached"
    clock.shift(timedelta(days=2))
    assert enrollments_advance_due() == 0
    assert OutboundMessage.objects.filter(enrollment_id=enrollment.pk).count() == 1


def test_it_suppresses_a_journey_message_whose_enrollment_has_ended(clock, opted_in_contact):
    from apps.sends.services.messages import message_create

    journey = reminder_journey()
    contact = opted_in_contact()
    enrollment = Enrollment.objects.create(journey=journey, contact=contact, state="goal_reached")
    message = message_create(
        send_key="late",
        origin="journey",
        category="marketing",
        contact=contact,
        body="Cue Demo: hi. Reply STOP to opt out.",
        enrollment_id=enrollment.pk,
        journey_id=journey.pk,
    )
    assert (message.status, message.reason_code) == ("suppressed", "journey_ended")


@pytest.mark.parametrize(
    ("policy", "days", "after", "enters_again"),
    [
        ("never", None, timedelta(days=90), False),
        ("after_days", 7, timedelta(days=3), False),
        ("after_days", 7, timedelta(days=8), True),
    ],
)
def test_it_applies_the_reentry_rule(
    clock, opted_in_contact, django_capture_on_commit_callbacks, policy, days, after, enters_again
):
    journey = journey_build(steps=[("done", "exit", {})], reentry=policy, reentry_days=days)
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
    assert Enrollment.objects.get().state == "completed"
    clock.shift(after)
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-2")
    assert Enrollment.objects.filter(journey=journey).count() == (2 if enters_again else 1)


def test_it_never_runs_two_enrollments_of_one_contact_in_one_journey(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey(reentry="after_days", reentry_days=0)
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
        happen(contact, "webinar_registered", "reg-2")
    assert Enrollment.objects.filter(journey=journey, state__in=["active", "waiting"]).count() == 1


def test_it_never_messages_the_holdout(clock, opted_in_contact, django_capture_on_commit_callbacks):
    journey = reminder_journey(holdout_percent=50)
    contacts = [opted_in_contact() for _ in range(40)]
    with django_capture_on_commit_callbacks(execute=True):
        for i, contact in enumerate(contacts):
            happen(contact, "webinar_registered", f"reg-{i}")
    holdout = Enrollment.objects.filter(journey=journey, is_holdout=True)
    assert 8 <= holdout.count() <= 32
    assert OutboundMessage.objects.filter(enrollment_id__in=holdout.values("pk")).count() == 0
    treated = Enrollment.objects.filter(journey=journey, is_holdout=False).count()
    assert OutboundMessage.objects.filter(journey_id=journey.pk).count() == treated


def test_it_takes_the_event_branch_of_wait_until_or_the_timeout(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    template = sms_template()
    journey = journey_build(
        steps=[
            (
                "wait",
                "wait_until",
                {
                    "events": ["webinar_attended"],
                    "within_hours": 2,
                    "next": "thanks",
                    "on_timeout": "missed",
                },
            ),
            ("thanks", "set_lifecycle_stage", {"stage": "mql"}),
            ("missed", "send_sms", {"template": template.pk}),
        ]
    )
    attended, missed = opted_in_contact(), opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(attended, "webinar_registered", "r1")
        happen(missed, "webinar_registered", "r2")
    clock.shift(timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        happen(attended, "webinar_attended", "a1")
    enrollments_advance_due()
    clock.shift(timedelta(hours=2))
    enrollments_advance_due()
    attended.refresh_from_db()
    assert attended.lifecycle_stage == "mql"
    assert OutboundMessage.objects.filter(contact=attended).count() == 0
    assert OutboundMessage.objects.filter(contact=missed, journey_id=journey.pk).count() == 1


def test_it_branches_on_contact_rules(clock, opted_in_contact, django_capture_on_commit_callbacks):
    journey = journey_build(
        steps=[
            (
                "check",
                "branch",
                {
                    "condition": {
                        "rules": {
                            "all": [
                                {"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}
                            ]
                        }
                    },
                    "then": "lead_path",
                    "else": "done",
                },
            ),
            ("lead_path", "set_lifecycle_stage", {"stage": "sql"}),
            ("done", "exit", {}),
        ]
    )
    lead, customer = (
        opted_in_contact(lifecycle_stage="lead"),
        opted_in_contact(lifecycle_stage="customer"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        happen(lead, "webinar_registered", "r1")
        happen(customer, "webinar_registered", "r2")
    lead.refresh_from_db()
    customer.refresh_from_db()
    assert (lead.lifecycle_stage, customer.lifecycle_stage) == ("sql", "customer")
    assert Enrollment.objects.get(journey=journey, contact=customer).state == "completed"


def test_it_runs_the_first_step_once_when_two_workers_advance_it(clock, opted_in_contact):
    from apps.journeys.engine.advance import enrollment_run
    from apps.journeys.engine.claims import enrollments_claim
    from apps.journeys.services import enrollment_start

    journey = reminder_journey()
    enrollment = enrollment_start(journey=journey, contact=opted_in_contact())
    first = enrollments_claim()
    second = enrollments_claim()  # finds nothing: the first holds the lease
    assert Enrollment.objects.filter(claim_token=second).count() == 0
    assert enrollment_run(enrollment_id=enrollment.pk, token=first) == 1
    assert enrollment_run(enrollment_id=enrollment.pk, token=first) == 0  # claim released
    assert OutboundMessage.objects.filter(enrollment_id=enrollment.pk).count() == 1


def test_it_reuses_the_message_when_a_crashed_run_is_repeated(clock, opted_in_contact, monkeypatch):
    from apps.journeys.engine import advance
    from apps.journeys.engine.claims import enrollments_claim
    from apps.journeys.services import enrollment_start

    journey = reminder_journey()
    enrollment = enrollment_start(journey=journey, contact=opted_in_contact())

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(advance, "_move_to", crash)  # dies right after the send step ran
    advance.enrollment_run(enrollment_id=enrollment.pk, token=enrollments_claim())
    monkeypatch.undo()
    clock.shift(timedelta(minutes=6))
    enrollments_advance_due()
    [message] = OutboundMessage.objects.filter(enrollment_id=enrollment.pk)
    assert message.send_key == f"journey:{enrollment.pk}:remind:1"
    assert Enrollment.objects.get(pk=enrollment.pk).current_step.key == "wait"


def test_one_failing_enrollment_leaves_the_rest_of_its_chunk_advanced(
    clock, opted_in_contact, monkeypatch
):
    from apps.journeys.models import Activity, StepKind
    from apps.journeys.services import enrollment_start
    from apps.journeys.steps import SPECS

    journey = journey_build(
        steps=[
            ("pause", "wait", {"hours": 1, "next": "promote"}),
            ("promote", "set_lifecycle_stage", {"stage": "mql", "next": "done"}),
            ("done", "exit", {}),
        ]
    )
    contacts = [opted_in_contact(lifecycle_stage="lead") for _ in range(3)]
    enrollments = [enrollment_start(journey=journey, contact=c) for c in contacts]
    steps_logged = Activity.objects.filter(kind="step").count()
    stage_spec = SPECS[StepKind.SET_LIFECYCLE_STAGE]
    real_stage = stage_spec.run

    def stage_or_fail(context, step, config):
        move = real_stage(context, step, config)  # writes the stage, then fails
        if context.contact.pk == contacts[1].pk:
            raise RuntimeError("CRM unreachable")
        return move

    monkeypatch.setattr(stage_spec, "run", stage_or_fail)
    clock.shift(timedelta(hours=1))
    assert enrollments_advance_due() == 2

    states = [Enrollment.objects.get(pk=e.pk) for e in enrollments]
    assert [(e.state, e.current_step.key) for e in states] == [
        ("completed", "done"),
        ("active", "pause"),  # rolled back to where it was, to be retried
        ("completed", "done"),
    ]
    assert states[1].next_run_at == timezone.now() + timedelta(minutes=5)
    for contact in contacts:
        contact.refresh_from_db()
    stages = [contact.lifecycle_stage for contact in contacts]
    assert stages == ["mql", "lead", "mql"]
    [error] = Activity.objects.filter(kind="error")
    assert (error.enrollment_id, error.reason) == (
        enrollments[1].pk,
        "RuntimeError: CRM unreachable",
    )
    # The failed run's own steps were rolled back with it: two moves each for the others.
    assert Activity.objects.filter(kind="step").count() - steps_logged == 4
    assert not Activity.objects.filter(enrollment=enrollments[1], kind="step", step_key="promote")
