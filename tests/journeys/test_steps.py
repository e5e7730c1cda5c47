"""Each kind of step, as a contact meets it: sends (queued, deferred, suppressed), waits,
branches on the CRM and on what became of a message, A/B splits, follow-up tasks, stage
changes, exits, and the journey's own cap and sending days."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from apps.contacts.models import Event
from apps.journeys.engine.steps import step_run
from apps.journeys.models import Enrollment
from apps.journeys.services import enrollment_start
from apps.journeys.steps.split import split_choose
from apps.sends.links import link_click_record
from apps.sends.models import InboundMessage, OutboundMessage, TrackedLink
from apps.sends.services.sweep import messages_sweep
from apps.sends.unsubscribe_links import unsubscribe_lookup
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import (
    MORNING,
    NIGHT,
    advance,
    email_opt_in,
    email_template,
    happen,
)
from tests.sends.conftest import fake_twilio  # noqa: F401  (a fixture)
from tests.sends.templates import approved_sms_version

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


@pytest.fixture
def night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


def enter(contact, capture, key="reg-1"):
    """The trigger happens; the first steps run right after commit."""
    with capture(execute=True):
        happen(contact, "webinar_registered", key)
    return Enrollment.objects.filter(contact=contact).first()


def reloaded(*objects):
    for item in objects:
        item.refresh_from_db()
    return objects


# --- send_sms ----------------------------------------------------------------------------


def test_it_sends_the_message_and_moves_on(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            ("remind", "send_sms", {"template": sms_template().pk, "next": "done"}),
            ("done", "exit", {}),
        ]
    )
    contact = opted_in_contact()
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    # The run ended in the same transaction that queued the message: it still goes out.
    assert (message.status, message.to_address, message.enrollment_id) == (
        "delivered",
        str(contact.phone),
        enrollment.pk,
    )
    assert message.step_id == journey.steps.get(key="remind").pk
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "done")


def test_it_waits_for_a_deferred_message_and_goes_on_once_it_is_released(
    night, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            (
                "remind",
                "send_sms",
                {"template": sms_template().pk, "next": "promote", "on_deferred": "wait"},
            ),
            ("promote", "set_lifecycle_stage", {"stage": "mql"}),
        ]
    )
    contact = opted_in_contact(lifecycle_stage="lead")
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert (message.status, message.reason_code, message.next_attempt_at) == (
        "deferred",
        "quiet_hours",
        MORNING,
    )
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "remind")
    assert enrollment.next_run_at == MORNING

    night.move_to(MORNING)
    advance(django_capture_on_commit_callbacks)  # the beat comes before the sweep's release
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "remind")
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep()["released"] == 1
    night.move_to(MORNING + timedelta(minutes=1))  # it sleeps a minute past the deferral
    assert advance(django_capture_on_commit_callbacks) == 1

    message, enrollment, contact = reloaded(message, enrollment, contact)
    assert (message.status, message.sent_at) == ("delivered", MORNING)
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "promote")
    assert contact.lifecycle_stage == "mql"
    assert OutboundMessage.objects.filter(journey_id=journey.pk).count() == 1


def test_it_goes_on_at_once_past_a_deferred_message_that_still_goes_out_later(
    night, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            (
                "remind",
                "send_sms",
                {"template": sms_template().pk, "next": "done", "on_deferred": "continue"},
            ),
            ("done", "exit", {}),
        ]
    )
    enrollment = enter(opted_in_contact(), django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert message.status == "deferred"
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "done")

    night.move_to(MORNING)
    with django_capture_on_commit_callbacks(execute=True):
        messages_sweep()
    message.refresh_from_db()
    assert (message.status, message.sent_at) == ("delivered", MORNING)


@pytest.mark.parametrize(
    ("on_suppressed", "state", "step", "stage"),
    [
        ("continue", "completed", "promote", "mql"),
        ("exit", "suppressed", "remind", "lead"),
    ],
)
def test_it_goes_on_or_exits_when_the_message_is_suppressed(
    clock, django_capture_on_commit_callbacks, on_suppressed, state, step, stage
):
    journey = journey_build(
        steps=[
            (
                "remind",
                "send_sms",
                {"template": sms_template().pk, "next": "promote", "on_suppressed": on_suppressed},
            ),
            ("promote", "set_lifecycle_stage", {"stage": "mql"}),
        ]
    )
    contact = ContactFactory(lifecycle_stage="lead")  # no consent on record
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert (message.status, message.reason_code) == ("suppressed", "consent_none")
    assert (enrollment.state, enrollment.current_step.key) == (state, step)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == stage


# --- send_email --------------------------------------------------------------------------


def test_it_sends_an_email_from_an_approved_email_template(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    template = email_template()
    journey = journey_build(
        steps=[
            ("offer", "send_email", {"template": template.pk, "next": "done"}),
            ("done", "exit", {}),
        ]
    )
    contact = email_opt_in(opted_in_contact(first_name="Ada"))
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    [link] = TrackedLink.objects.filter(message=message)
    assert (message.channel, message.to_address, message.subject, message.status) == (
        "email",
        contact.email,
        "Your offer",
        "sent",
    )
    assert message.template_version_id == template.current_version_id
    assert (link.key, link.destination) == ("offer", "https://www.example.com/offer")
    [email] = mail.outbox
    assert (email.subject, email.to) == ("Your offer", [contact.email])
    text, unsubscribe = email.body.rsplit("\nUnsubscribe: ", 1)
    assert text == (
        f"Hi Ada, here is 20% off your first year: {settings.PUBLIC_BASE_URL}/l/{link.token}\n"
        "Cue Demo\nCue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701"
    )
    unsubscribe_prefix = f"{settings.PUBLIC_BASE_URL}/unsubscribe/"
    assert unsubscribe.startswith(unsubscribe_prefix)
    token = unsubscribe.removeprefix(unsubscribe_prefix).rstrip("/")
    assert unsubscribe_lookup(token) == {"send_key": message.send_key}
    assert enrollment.state == "completed"


# --- wait, wait_until --------------------------------------------------------------------


def test_it_waits_the_given_time_and_not_a_minute_less(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey_build(
        steps=[
            ("pause", "wait", {"hours": 2, "next": "promote"}),
            ("promote", "set_lifecycle_stage", {"stage": "mql"}),
        ]
    )
    contact = opted_in_contact(lifecycle_stage="lead")
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    assert (enrollment.state, enrollment.next_run_at) == ("waiting", MIDDAY + timedelta(hours=2))
    clock.shift(timedelta(hours=1, minutes=59))
    assert advance(django_capture_on_commit_callbacks) == 0
    clock.shift(timedelta(minutes=1))
    assert advance(django_capture_on_commit_callbacks) == 1
    enrollment, contact = reloaded(enrollment, contact)
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "promote")
    assert contact.lifecycle_stage == "mql"


def attendance_journey():
    return journey_build(
        steps=[
            (
                "watch",
                "wait_until",
                {
                    "events": ["webinar_attended"],
                    "within_hours": 4,
                    "next": "thanks",
                    "on_timeout": "missed",
                },
            ),
            ("thanks", "exit", {}),
            ("missed", "exit", {}),
        ]
    )


def test_it_leaves_a_wait_until_by_its_event_as_soon_as_the_event_happens(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    attendance_journey()
    contact = opted_in_contact()
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    assert (enrollment.state, enrollment.next_run_at) == ("waiting", MIDDAY + timedelta(hours=4))
    clock.shift(timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_attended", "att-1")
    assert advance(django_capture_on_commit_callbacks) == 1  # woken: not at the deadline
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "thanks")
    [moved] = enrollment.activity.filter(kind="step", step_key="thanks")
    assert moved.reason == "webinar_attended happened at 2026-03-10 16:30."


def test_it_leaves_a_wait_until_by_its_timeout_when_the_event_came_before_the_wait(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    attendance_journey()
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_attended", "att-earlier")
    clock.shift(timedelta(minutes=1))
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    clock.shift(timedelta(hours=3, minutes=59))
    assert advance(django_capture_on_commit_callbacks) == 0
    clock.shift(timedelta(minutes=1))
    assert advance(django_capture_on_commit_callbacks) == 1
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "missed")


# --- branch ------------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "path"), [("mql", "yes"), ("customer", "no")])
def test_it_branches_on_the_contact_as_the_crm_sees_it(
    clock, opted_in_contact, django_capture_on_commit_callbacks, stage, path
):
    rules = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}]}
    journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": rules}, "then": "yes", "else": "no"}),
            ("yes", "exit", {}),
            ("no", "exit", {}),
        ]
    )
    enrollment = enter(opted_in_contact(lifecycle_stage=stage), django_capture_on_commit_callbacks)
    assert enrollment.current_step.key == path
    [decision] = enrollment.activity.filter(kind="decision")
    words = "matches" if path == "yes" else "does not match"
    assert decision.reason == f"Contact {words} the branch rules."


def outcome_journey(template, outcome: str, kind: str = "send_sms"):
    """Sends, waits an hour, then branches on what became of the message."""
    return journey_build(
        steps=[
            ("msg", kind, {"template": template.pk, "next": "pause"}),
            ("pause", "wait", {"hours": 1, "next": "check"}),
            (
                "check",
                "branch",
                {
                    "condition": {"step_outcome": {"step": "msg", "is": outcome}},
                    "then": "yes",
                    "else": "no",
                },
            ),
            ("yes", "exit", {}),
            ("no", "exit", {}),
        ]
    )


def path_after_the_hour(enrollment, clock, capture) -> str:
    clock.shift(timedelta(hours=1))
    assert advance(capture) == 1
    enrollment.refresh_from_db()
    assert enrollment.state == "completed"
    return enrollment.current_step.key


@pytest.mark.parametrize(("callback", "path"), [("delivered", "yes"), ("undelivered", "no")])
def test_it_branches_on_whether_the_message_was_delivered(
    clock,
    fake_twilio,  # noqa: F811
    client,
    opted_in_contact,
    django_capture_on_commit_callbacks,
    callback,
    path,
):
    journey = outcome_journey(sms_template(), "delivered")
    enrollment = enter(opted_in_contact(), django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert message.status == "sent"  # the provider took it; delivery is not known yet
    url, params, headers = fake_twilio.signed_status_callback(message.provider_sid, callback)
    response = client.post(
        url.removeprefix("https://cue.example.com"),
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == callback
    assert path_after_the_hour(enrollment, clock, django_capture_on_commit_callbacks) == path


@pytest.mark.parametrize(
    ("user_agent", "path"), [(BROWSER, "yes"), ("Slackbot-LinkExpanding 1.0", "no")]
)
def test_it_branches_on_whether_a_person_clicked_the_link(
    clock, opted_in_contact, django_capture_on_commit_callbacks, user_agent, path
):
    journey = outcome_journey(approved_sms_version(name="Demo link").template, "clicked")
    enrollment = enter(opted_in_contact(), django_capture_on_commit_callbacks)
    [link] = TrackedLink.objects.filter(message__journey_id=journey.pk)
    clock.shift(timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        link_click_record(link=link, user_agent=user_agent, ip_address="203.0.113.9")
    assert path_after_the_hour(enrollment, clock, django_capture_on_commit_callbacks) == path


@pytest.mark.parametrize(("minutes", "path"), [(20, "yes"), (-20, "no")])
def test_it_branches_on_whether_the_contact_replied_after_the_message(
    clock, opted_in_contact, django_capture_on_commit_callbacks, minutes, path
):
    journey = outcome_journey(sms_template(), "replied")
    contact = opted_in_contact()
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert message.sent_at == MIDDAY
    reply = InboundMessage.objects.create(
        provider_sid="SM" + "9" * 32,
        from_address=str(contact.phone),
        to_address="+13125550000",
        body="Yes, interested",
        contact=contact,
    )
    InboundMessage.objects.filter(pk=reply.pk).update(
        received_at=MIDDAY + timedelta(minutes=minutes)
    )
    assert path_after_the_hour(enrollment, clock, django_capture_on_commit_callbacks) == path


@pytest.mark.parametrize(("same_message", "path"), [(True, "yes"), (False, "no")])
def test_it_branches_on_whether_the_email_was_opened(
    clock, opted_in_contact, django_capture_on_commit_callbacks, same_message, path
):
    journey = outcome_journey(email_template(), "opened", kind="send_email")
    contact = email_opt_in(opted_in_contact())
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    opened = message.pk if same_message else message.pk + 1000
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "email_open", "open-1", message_id=opened)
    assert path_after_the_hour(enrollment, clock, django_capture_on_commit_callbacks) == path


# --- split -------------------------------------------------------------------------------

VARIANTS = [
    {"name": "A", "percent": 20, "next": "a"},
    {"name": "B", "percent": 30, "next": "b"},
    {"name": "C", "percent": 50, "next": "c"},
]


def test_split_choose_spreads_enrollments_by_the_variants_percentages():
    chosen = Counter(
        split_choose(enrollment_id, "ab", VARIANTS) for enrollment_id in range(1, 3001)
    )
    for variant in VARIANTS:
        assert abs(chosen[variant["name"]] / 30 - variant["percent"]) <= 3, chosen
    assert {split_choose(4242, "ab", VARIANTS) for _ in range(5)} == {
        split_choose(4242, "ab", VARIANTS)
    }  # stable: the same enrollment always gets the same variant


def test_it_splits_enrollments_through_the_engine_by_the_percentages(
    clock, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            (
                "ab",
                "split",
                {"variants": [VARIANTS[0] | {"percent": 40}, VARIANTS[1] | {"percent": 60}]},
            ),
            ("a", "exit", {}),
            ("b", "exit", {}),
        ]
    )
    for contact in ContactFactory.create_batch(300):
        enrollment_start(journey=journey, contact=contact)  # the beat runs them
    assert advance(django_capture_on_commit_callbacks) == 300
    enrollments = list(Enrollment.objects.filter(journey=journey).select_related("current_step"))
    ended_on = Counter(enrollment.current_step.key for enrollment in enrollments)
    assert abs(ended_on["a"] - 120) <= 30 and ended_on["a"] + ended_on["b"] == 300, ended_on
    assert all(
        enrollment.variants == {"ab": enrollment.current_step.key.upper()}
        for enrollment in enrollments
    )


# --- create_task -------------------------------------------------------------------------


def test_it_creates_a_follow_up_task_for_the_contacts_owner_once(
    clock, make_user, opted_in_contact, django_capture_on_commit_callbacks
):
    try:
        from apps.routing.models import FollowUpTask, RoutingRule
        from apps.routing.services import signal_route  # noqa: F401  (what the step calls)
    except ImportError as error:
        pytest.skip(f"apps.routing is not finished: {error}")
    from apps.accounts import roles
    from tests.factories import TeamFactory

    team = TeamFactory(name="Inside sales")
    rep = make_user(roles.SALES_REP, team=team)
    RoutingRule.objects.create(
        name="Journey follow-ups",
        signal_types=["journey_step"],
        team=team,
        sla_minutes=15,
        sla_clock="clock",
    )
    journey = journey_build(
        steps=[
            ("call", "create_task", {"reason": "Call about the webinar", "next": "done"}),
            ("done", "exit", {}),
        ]
    )
    contact = opted_in_contact(owner=rep)
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [task] = FollowUpTask.objects.filter(contact=contact)
    assert (task.owner, task.signal_type, task.journey_id, task.reason, task.status) == (
        rep,
        "journey_step",
        journey.pk,
        "Call about the webinar",
        "open",
    )
    assert task.due_at == MIDDAY + timedelta(minutes=15)
    assert enrollment.state == "completed"
    [logged] = enrollment.activity.filter(kind="task")
    assert logged.reason == f"Follow-up task {task.pk}: Call about the webinar"
    # The same visit run again (a crashed run repeated) finds the same task.
    step_run(enrollment, journey.steps.get(key="call"), MIDDAY)
    assert FollowUpTask.objects.filter(contact=contact).count() == 1


# --- set_lifecycle_stage, exit -----------------------------------------------------------


def test_it_sets_the_stage_and_records_the_change_as_an_event(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey_build(steps=[("promote", "set_lifecycle_stage", {"stage": "mql"})])
    contact = opted_in_contact(lifecycle_stage="lead")
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "mql"
    [changed] = Event.objects.filter(contact=contact, type="lifecycle_stage_changed")
    assert (changed.properties, changed.occurred_at) == ({"from": "lead", "to": "mql"}, MIDDAY)
    assert enrollment.state == "completed"


def test_it_ends_with_the_goal_when_a_stage_step_reaches_the_goal_stage(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            ("promote", "set_lifecycle_stage", {"stage": "sql", "next": "nudge"}),
            ("nudge", "send_sms", {"template": sms_template().pk}),
        ],
        exit_lifecycle_stage="sql",
    )
    contact = opted_in_contact(lifecycle_stage="mql")
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    assert (enrollment.state, enrollment.current_step.key) == ("goal_reached", "promote")
    [goal] = enrollment.activity.filter(kind="goal")
    assert goal.reason == "Goal reached: lifecycle stage reached sql."
    assert OutboundMessage.objects.filter(journey_id=journey.pk).count() == 0


def test_it_goes_on_when_the_stage_set_is_short_of_the_goal_stage(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey_build(
        steps=[
            ("promote", "set_lifecycle_stage", {"stage": "mql", "next": "done"}),
            ("done", "exit", {}),
        ],
        exit_lifecycle_stage="sql",
    )
    enrollment = enter(opted_in_contact(lifecycle_stage="lead"), django_capture_on_commit_callbacks)
    assert (enrollment.state, enrollment.current_step.key) == ("completed", "done")


def test_it_ends_at_an_exit_step_and_runs_nothing_after_it(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            ("done", "exit", {"next": "nudge"}),  # an exit has no edges: "next" is ignored
            ("nudge", "send_sms", {"template": sms_template().pk}),
        ]
    )
    enrollment = enter(opted_in_contact(), django_capture_on_commit_callbacks)
    assert (enrollment.state, enrollment.finished_at, enrollment.next_run_at) == (
        "completed",
        MIDDAY,
        None,
    )
    [ended] = enrollment.activity.filter(kind="exit")
    assert (ended.step_key, ended.reason) == ("done", "Reached an exit step.")
    assert OutboundMessage.objects.filter(journey_id=journey.pk).count() == 0


# --- the journey's own cap and sending days ----------------------------------------------


def test_it_suppresses_a_message_over_the_journeys_own_cap(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    second_template = sms_template(
        name="Webinar nudge", body="Cue Demo: the recording is ready. Reply STOP to opt out."
    )
    journey = journey_build(
        steps=[
            ("first", "send_sms", {"template": sms_template().pk, "next": "pause"}),
            ("pause", "wait", {"hours": 1, "next": "second"}),
            ("second", "send_sms", {"template": second_template.pk}),
        ],
        cap_messages=1,
        cap_hours=24,
    )
    enrollment = enter(opted_in_contact(), django_capture_on_commit_callbacks)
    clock.shift(timedelta(hours=1))
    advance(django_capture_on_commit_callbacks)
    first, second = OutboundMessage.objects.filter(journey_id=journey.pk).order_by("pk")
    assert first.status == "delivered"
    assert (second.status, second.reason_code, second.reason) == (
        "suppressed",
        "journey_cap",
        "Test journey already sent 1 in 24 h (its cap is 1).",
    )
    enrollment.refresh_from_db()
    assert enrollment.state == "completed"


def test_it_holds_a_message_until_the_contacts_own_next_sending_day(
    opted_in_contact, django_capture_on_commit_callbacks
):
    saturday = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)  # 11:00 on Saturday in Chicago
    monday = datetime(2026, 3, 16, 0, 0, tzinfo=CHICAGO)
    journey = journey_build(
        steps=[("remind", "send_sms", {"template": sms_template().pk})],
        send_weekdays=[0, 1, 2, 3, 4],
    )
    with time_machine.travel(saturday, tick=False) as traveller:
        enrollment = enter(opted_in_contact(), django_capture_on_commit_callbacks)
        [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
        assert (message.status, message.reason_code, message.next_attempt_at) == (
            "deferred",
            "journey_send_days",
            monday,
        )
        assert (enrollment.state, enrollment.next_run_at) == ("waiting", monday)
        # Monday 00:30 UTC is Sunday evening in Chicago: not a sending day there.
        traveller.move_to(datetime(2026, 3, 16, 0, 30, tzinfo=UTC))
        with django_capture_on_commit_callbacks(execute=True):
            assert messages_sweep()["released"] == 0
        traveller.move_to(monday)  # a sending day, but quiet hours until 08:00
        with django_capture_on_commit_callbacks(execute=True):
            messages_sweep()
        message.refresh_from_db()
        assert (message.status, message.reason_code) == ("deferred", "quiet_hours")
        traveller.move_to(datetime(2026, 3, 16, 8, 0, tzinfo=CHICAGO))
        with django_capture_on_commit_callbacks(execute=True):
            messages_sweep()
        assert advance(django_capture_on_commit_callbacks) == 1
    message, enrollment = reloaded(message, enrollment)
    assert message.status == "delivered"
    assert message.sent_at.astimezone(CHICAGO).strftime("%a %H:%M") == "Mon 08:00"
    assert enrollment.state == "completed"


def test_it_cancels_a_message_deferred_by_quiet_hours_when_the_goal_is_met(
    night, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = journey_build(
        steps=[
            ("remind", "send_sms", {"template": sms_template().pk, "next": "done"}),
            ("done", "exit", {}),
        ],
        exit_event_types=["meeting_booked"],
    )
    contact = opted_in_contact()
    enrollment = enter(contact, django_capture_on_commit_callbacks)
    [message] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert (message.status, enrollment.state) == ("deferred", "waiting")
    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "meeting_booked", "mb-1")
    message, enrollment = reloaded(message, enrollment)
    assert (enrollment.state, enrollment.next_run_at) == ("goal_reached", None)
    assert (message.status, message.reason_code, message.reason) == (
        "canceled",
        "journey_goal",
        "The journey's goal was met: meeting_booked at 2026-03-10 04:00",
    )
    night.move_to(MORNING)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep()["released"] == 0
    assert advance(django_capture_on_commit_callbacks) == 0
    message.refresh_from_db()
    assert (message.status, message.sent_at) == ("canceled", None)
