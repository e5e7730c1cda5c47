"""A wait until a time the triggering event carries: the webinar reminder goes one hour
before the start given in the registration, in the engine, the simulator, the builder and
the activation rules alike."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.contacts.models import Segment
from apps.journeys.graph import journey_problems
from apps.journeys.models import Enrollment, Journey, JourneyStatus
from apps.journeys.simulator import journey_simulate
from apps.sends.models import OutboundMessage
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import advance, happen
from tests.journeys.test_admin import change_url, journey_data, step_data
from tests.sends.conftest import fake_twilio  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

STARTS = MIDDAY + timedelta(hours=26)  # 18:00 UTC, 13:00 in Chicago
BEFORE_START = {"until_property": "starts_at", "offset_minutes": -60, "next": "remind"}


def reminder_journey(wait=BEFORE_START, **fields):
    return journey_build(
        steps=[
            ("before", "wait", wait),
            ("remind", "send_sms", {"template": sms_template().pk, "next": "done"}),
            ("done", "exit", {}),
            ("late", "set_lifecycle_stage", {"stage": "mql"}),
        ],
        **fields,
    )


def register(contact, capture, starts_at, key="reg-1"):
    properties = {} if starts_at is None else {"starts_at": starts_at}
    with capture(execute=True):
        happen(contact, "webinar_registered", key, **properties)
    return Enrollment.objects.get(contact=contact)


def test_it_reminds_one_hour_before_the_start_and_not_a_minute_sooner(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey()
    contact = opted_in_contact()
    enrollment = register(contact, django_capture_on_commit_callbacks, STARTS.isoformat())
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "before")
    assert enrollment.next_run_at == STARTS - timedelta(hours=1)
    [waiting] = enrollment.activity.filter(kind="wait")
    assert waiting.reason == "Waiting until 2026-03-11 17:00 UTC (1 h before starts_at)."

    clock.move_to(STARTS - timedelta(hours=1, minutes=1))
    assert advance(django_capture_on_commit_callbacks) == 0
    assert not OutboundMessage.objects.filter(journey_id=journey.pk).exists()
    clock.move_to(STARTS - timedelta(hours=1))
    assert advance(django_capture_on_commit_callbacks) == 1
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert (message.status, message.contact) == ("delivered", contact)
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "done")


def test_it_reads_a_time_without_an_offset_in_the_contacts_time_zone(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    reminder_journey()
    contact = opted_in_contact(time_zone="America/Chicago")
    enrollment = register(contact, django_capture_on_commit_callbacks, "2026-03-11T13:00:00")
    assert enrollment.next_run_at == STARTS - timedelta(hours=1)


def test_it_reminds_at_once_when_the_registration_comes_after_the_reminder_time(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey()
    clock.move_to(STARTS - timedelta(minutes=30))
    enrollment = register(
        opted_in_contact(), django_capture_on_commit_callbacks, STARTS.isoformat()
    )
    assert OutboundMessage.objects.filter(journey_id=journey.pk).count() == 1
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "done")


@pytest.mark.parametrize(
    ("starts_at", "reason"),
    [
        (
            (MIDDAY - timedelta(hours=3)).isoformat(),
            "1 h before starts_at was 2026-03-10 12:00 UTC: too late to act on.",
        ),
        (None, "The triggering event gives no time in 'starts_at'."),
        ("next tuesday", "The triggering event gives no time in 'starts_at'."),
    ],
)
def test_it_takes_the_missed_edge_when_the_time_is_gone_or_not_given(
    clock, opted_in_contact, django_capture_on_commit_callbacks, starts_at, reason
):
    journey = reminder_journey(wait={**BEFORE_START, "on_missed": "late"})
    contact = opted_in_contact(lifecycle_stage="lead")
    enrollment = register(contact, django_capture_on_commit_callbacks, starts_at)
    assert not OutboundMessage.objects.filter(journey_id=journey.pk).exists()
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "late")
    assert enrollment.activity.filter(kind="step", step_key="late").get().reason == reason
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "mql"


def test_without_a_missed_edge_the_journey_ends_and_sends_nothing(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = reminder_journey()
    enrollment = register(opted_in_contact(), django_capture_on_commit_callbacks, None)
    assert not OutboundMessage.objects.filter(journey_id=journey.pk).exists()
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "before")


def test_the_simulator_shows_the_moment_or_the_missed_edge(clock, opted_in_contact):
    journey = reminder_journey(wait={**BEFORE_START, "on_missed": "late"})
    contact = opted_in_contact()
    on_time = journey_simulate(
        journey=journey,
        contact=contact,
        event_type="webinar_registered",
        event_properties={"starts_at": STARTS.isoformat()},
    )
    assert on_time.path == ["before", "remind", "done"]
    assert on_time.steps[0].outcome == (
        "Waiting until 2026-03-11 17:00 UTC (1 h before starts_at)."
    )
    missed = journey_simulate(journey=journey, contact=contact, event_type="webinar_registered")
    assert missed.path == ["before", "late"]
    assert missed.steps[0].outcome == "The triggering event gives no time in 'starts_at'."


@pytest.mark.parametrize(
    ("wait", "problem"),
    [
        (
            {**BEFORE_START, "until_property": "starts at"},
            "name the event property that holds the time (letters, digits, _ . -).",
        ),
        (
            {**BEFORE_START, "offset_minutes": 1.5},
            "give the minutes from that time as a whole number within 60 days.",
        ),
        (
            {**BEFORE_START, "late_after_minutes": -1},
            "give 'too late after' as zero or more minutes.",
        ),
        (
            {**BEFORE_START, "hours": 2},
            "wait either a duration or until the event's time, not both.",
        ),
        (
            {**BEFORE_START, "on_missed": "nowhere"},
            "its \"missed\" leads to 'nowhere', which is not a step of this journey.",
        ),
    ],
)
def test_activation_names_what_is_wrong_with_the_wait(wait, problem):
    journey = reminder_journey(wait=wait, status=JourneyStatus.DRAFT)
    assert journey_problems(journey) == [f"Step before: {problem}"]


def test_activation_refuses_it_in_a_journey_started_by_a_segment():
    segment = Segment.objects.create(name="Leads", rules={"all": []})
    journey = reminder_journey(
        status=JourneyStatus.DRAFT, trigger_kind="segment_entry", entry_segment=segment
    )
    assert journey_problems(journey) == [
        "Step before: waits for a time in the triggering event, but a segment entry has no event."
    ]


def test_the_builder_saves_the_wait_from_its_fields_and_shows_them_again(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    data = journey_data(
        step_data(
            0,
            "before",
            "wait",
            until_property="starts_at",
            offset_minutes="-60",
            late_after_minutes="30",
            on_missed="done",
            next_step="done",
        ),
        step_data(1, "done", "exit"),
    )
    response = client.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 302
    journey = Journey.objects.get()
    assert journey.steps.get(key="before").config == {
        "until_property": "starts_at",
        "offset_minutes": -60,
        "late_after_minutes": 30,
        "next": "done",
        "on_missed": "done",
    }
    page = client.get(change_url(journey))
    form = page.context["inline_admin_formsets"][0].formset.forms[0]
    shown = {name: form[name].value() for name in ("until_property", "offset_minutes")}
    assert shown == {"until_property": "starts_at", "offset_minutes": -60}
    assert (form["late_after_minutes"].value(), form["on_missed"].value()) == (30, "done")
    assert "waits until 1 h before" in page.content.decode()  # the diagram, clipped


def test_the_builder_refuses_a_duration_and_an_event_time_together(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    data = journey_data(
        step_data(0, "before", "wait", until_property="starts_at", wait_amount="2"),
    )
    response = client.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0] == {
        "until_property": ["Wait either a duration or until the event's time, not both."]
    }
    assert Journey.objects.count() == 0
