"""A goal stops a journey's message at dispatch even when the goal event's hand-off has not
run yet (a worker backlog, the broker down): the gate looks for goal events itself."""

from datetime import timedelta

import pytest

from apps.journeys.engine.advance import enrollments_advance_due
from apps.journeys.models import Enrollment
from apps.sends.models import OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.testing.fake_twilio import FakeTwilio
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.scenario import happen
from tests.sends.conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def twilio(settings):
    """The real twilio client talks HTTP to the fake (as in tests/sends)."""
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
        settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
        settings.TWILIO_FROM_NUMBER = ""
        settings.TWILIO_API_BASE_URL = fake.base_url
        settings.PUBLIC_BASE_URL = "https://cue.example.com"
        settings.CUE_SEND_RATES = {"default": 1000.0}
        yield fake


def three_step_journey(**fields):
    remind = sms_template()
    nudge = sms_template(
        name="Webinar nudge", body="Cue Demo: the recording is ready. Reply STOP to opt out."
    )
    last = sms_template(
        name="Webinar last call",
        body="Cue Demo: last call for the recording. Reply STOP to opt out.",
    )
    return journey_build(
        steps=[
            ("remind", "send_sms", {"template": remind.pk, "next": "wait"}),
            ("wait", "wait", {"hours": 1, "next": "nudge"}),
            ("nudge", "send_sms", {"template": nudge.pk, "next": "wait2"}),
            ("wait2", "wait", {"hours": 1, "next": "last"}),
            ("last", "send_sms", {"template": last.pk}),
        ],
        **fields,
    )


@pytest.fixture
def nudge_queued(clock, opted_in_contact, twilio, django_capture_on_commit_callbacks):
    """An hour in: the nudge is queued (its dispatch not run yet) and the enrollment waits."""

    def make(**journey_fields):
        journey = three_step_journey(**journey_fields)
        contact = opted_in_contact()
        with django_capture_on_commit_callbacks(execute=True):
            happen(contact, "webinar_registered", "reg-1")
        enrollment = Enrollment.objects.get(journey=journey, contact=contact)
        clock.shift(timedelta(hours=1))
        assert enrollments_advance_due() == 1  # no commit here: nothing is dispatched
        nudge = OutboundMessage.objects.get(send_key=f"journey:{enrollment.pk}:nudge:1")
        assert nudge.status == "queued"
        return contact, enrollment, nudge

    return make


@pytest.mark.parametrize(
    ("journey_fields", "goal_event", "properties"),
    [
        ({"exit_event_types": ["meeting_booked"]}, "meeting_booked", {}),
        ({"exit_on_opportunity": True}, "opportunity_created", {}),
        ({"exit_lifecycle_stage": "sql"}, "lifecycle_stage_changed", {"to": "customer"}),
    ],
)
def test_a_goal_whose_hand_off_never_ran_stops_the_queued_message_and_the_journey(
    nudge_queued,
    clock,
    twilio,
    journey_fields,
    goal_event,
    properties,
):
    contact, enrollment, nudge = nudge_queued(**journey_fields)
    sent_before = len(twilio.messages_sent())
    happen(contact, goal_event, "goal-1", **properties)  # recorded; its hand-off never runs

    outcome = message_dispatch(message_id=nudge.pk)

    nudge.refresh_from_db()
    enrollment.refresh_from_db()
    assert (outcome, nudge.status, nudge.reason_code) == (
        "suppressed",
        "suppressed",
        "journey_goal",
    )
    assert len(twilio.messages_sent()) == sent_before
    assert (enrollment.state, enrollment.next_run_at) == ("goal_reached", None)
    clock.shift(timedelta(hours=2))
    assert enrollments_advance_due() == 0
    assert not OutboundMessage.objects.filter(send_key__contains=":last:").exists()


def test_an_event_that_is_not_the_goal_lets_the_message_go(nudge_queued, twilio):
    contact, enrollment, nudge = nudge_queued(exit_event_types=["meeting_booked"])
    sent_before = len(twilio.messages_sent())
    happen(contact, "pricing_view", "pv-1")

    assert message_dispatch(message_id=nudge.pk) == "sent"
    assert len(twilio.messages_sent()) == sent_before + 1
    enrollment.refresh_from_db()
    assert enrollment.state == "waiting"


def test_a_goal_reached_before_the_contact_entered_does_not_count(
    clock,
    opted_in_contact,
    twilio,
    django_capture_on_commit_callbacks,
):
    journey = three_step_journey(exit_event_types=["meeting_booked"])
    contact = opted_in_contact()
    happen(contact, "meeting_booked", "old-meeting")
    clock.shift(timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
    enrollment = Enrollment.objects.get(journey=journey, contact=contact)
    [remind] = OutboundMessage.objects.filter(enrollment_id=enrollment.pk)
    assert remind.status in ("sent", "delivered")
    assert remind.reason_code == "allowed"


def test_the_engine_ends_the_journey_when_its_own_send_meets_a_recorded_goal(
    clock,
    opted_in_contact,
    twilio,
    django_capture_on_commit_callbacks,
):
    journey = three_step_journey(exit_event_types=["meeting_booked"])
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")
    enrollment = Enrollment.objects.get(journey=journey, contact=contact)
    happen(contact, "meeting_booked", "mb-1")  # its hand-off never runs
    clock.shift(timedelta(hours=1))

    assert enrollments_advance_due() == 1

    enrollment.refresh_from_db()
    nudge = OutboundMessage.objects.get(send_key=f"journey:{enrollment.pk}:nudge:1")
    assert (nudge.status, nudge.reason_code) == ("suppressed", "journey_goal")
    assert (enrollment.state, enrollment.current_step.key) == ("goal_reached", "nudge")
    assert OutboundMessage.objects.filter(enrollment_id=enrollment.pk).count() == 2
