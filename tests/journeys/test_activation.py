"""Activation: only an approver (or an admin) switches a journey on or off, and only a
journey whose graph holds together — a trigger, a first step, no dangling edge, approved
templates on the right channel, branches that end, splits that add up, no loop without a
wait."""

import pytest

from apps.accounts import roles
from apps.journeys.graph import journey_problems
from apps.journeys.models import JourneyStatus
from apps.journeys.services import JourneyError, journey_activate, journey_pause
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import email_template
from tests.sends.templates import draft_sms_version

pytestmark = pytest.mark.django_db


def draft_journey(steps=None, **fields):
    steps = steps or [("done", "exit", {})]
    return journey_build(steps=steps, status=JourneyStatus.DRAFT, **fields)


@pytest.mark.parametrize("role", [roles.APPROVER, roles.ADMIN])
def test_it_lets_an_approver_or_an_admin_activate_and_pause(clock, make_user, role):
    journey = draft_journey()
    actor = make_user(role, username="ana")
    journey_activate(journey=journey, actor=actor)
    journey.refresh_from_db()
    assert (journey.status, journey.activated_at) == ("active", MIDDAY)
    assert journey.history.first().history_change_reason == "Activated by ana"

    journey_pause(journey=journey, actor=actor)
    journey.refresh_from_db()
    assert journey.status == "paused"
    assert journey.history.first().history_change_reason == "Paused by ana"


@pytest.mark.parametrize(
    "role", [roles.MARKETER, roles.COMPLIANCE, roles.SALES_REP, roles.SALES_MANAGER]
)
def test_it_refuses_activation_and_pausing_to_every_other_role(make_user, role):
    draft, active = (
        draft_journey(name="Draft"),
        journey_build(steps=[("done", "exit", {})], name="Live"),
    )
    actor = make_user(role)
    with pytest.raises(JourneyError, match=r"^Only an approver may activate a journey\.$"):
        journey_activate(journey=draft, actor=actor)
    with pytest.raises(JourneyError, match=r"^Only an approver may pause a journey\.$"):
        journey_pause(journey=active, actor=actor)
    draft.refresh_from_db()
    active.refresh_from_db()
    assert (draft.status, active.status) == ("draft", "active")


def test_it_refuses_to_activate_a_journey_with_problems_and_says_each(make_user):
    journey = draft_journey(
        steps=[("first", "wait", {"hours": 1, "next": "ghost"})], trigger_event_type=""
    )
    with pytest.raises(JourneyError) as refused:
        journey_activate(journey=journey, actor=make_user(roles.APPROVER))
    assert refused.value.message == (
        "Set the event that starts the journey. "
        "Step first: its \"next\" leads to 'ghost', which is not a step of this journey."
    )
    assert refused.value.field == "steps"
    journey.refresh_from_db()
    assert (journey.status, journey.activated_at) == ("draft", None)


def test_a_sound_journey_has_no_problems():
    template = sms_template()
    journey = draft_journey(
        steps=[
            ("remind", "send_sms", {"template": template.pk, "next": "pause"}),
            ("pause", "wait", {"days": 1, "next": "check"}),
            (
                "check",
                "branch",
                {
                    "condition": {"step_outcome": {"step": "remind", "is": "clicked"}},
                    "then": "done",
                    "else": "ab",
                },
            ),
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 50, "next": "done"},
                        {"name": "B", "percent": 50, "next": "promote"},
                    ]
                },
            ),
            ("promote", "set_lifecycle_stage", {"stage": "mql", "next": "done"}),
            ("done", "exit", {}),
        ]
    )
    assert journey_problems(journey) == []


def test_it_needs_a_trigger():
    assert journey_problems(draft_journey(trigger_event_type="")) == [
        "Set the event that starts the journey."
    ]
    segment_entry = draft_journey(name="Segment entry", trigger_kind="segment_entry")
    assert journey_problems(segment_entry) == [
        "Set the segment whose new members enter the journey."
    ]


def test_it_needs_a_first_step():
    journey = draft_journey()
    journey.first_step = None
    journey.save()
    assert journey_problems(journey) == ["Choose the first step."]


def test_it_finds_an_edge_to_a_step_that_does_not_exist():
    journey = draft_journey(
        steps=[
            (
                "check",
                "branch",
                {"condition": {"rules": {"all": []}}, "then": "gone", "else": "done"},
            ),
            ("done", "exit", {}),
        ]
    )
    assert journey_problems(journey) == [
        "Step check: its \"then\" leads to 'gone', which is not a step of this journey."
    ]


def test_it_needs_an_approved_version_of_each_send_steps_template():
    draft = draft_sms_version(name="Unapproved reminder").template
    journey = draft_journey(steps=[("remind", "send_sms", {"template": draft.pk})])
    assert journey_problems(journey) == [
        "Step remind: Unapproved reminder has no approved version yet."
    ]


def test_it_needs_each_send_steps_template_on_its_own_channel():
    journey = draft_journey(
        steps=[
            (
                "remind",
                "send_sms",
                {"template": email_template(name="Offer email").pk, "next": "mail"},
            ),
            ("mail", "send_email", {"template": sms_template(name="Reminder").pk}),
        ]
    )
    assert journey_problems(journey) == [
        "Step remind: Offer email is an email template, not sms.",
        "Step mail: Reminder is an sms template, not email.",
    ]


def test_it_needs_a_template_on_a_send_step():
    journey = draft_journey(steps=[("remind", "send_sms", {"template": 999_999})])
    assert journey_problems(journey) == ["Step remind: choose a template."]


def test_it_needs_both_ends_of_a_branch():
    journey = draft_journey(
        steps=[
            ("check", "branch", {"condition": {"rules": {"all": []}}, "then": "done"}),
            ("done", "exit", {}),
        ]
    )
    assert journey_problems(journey) == ['Step check: set where "else" leads.']


def test_it_needs_a_splits_percentages_to_add_up_to_100():
    journey = draft_journey(
        steps=[
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 50, "next": "done"},
                        {"name": "B", "percent": 40, "next": "done"},
                    ]
                },
            ),
            ("done", "exit", {}),
        ]
    )
    assert journey_problems(journey) == [
        "Step ab: the variants' percentages add up to 90, not 100."
    ]


LEAD = {"rules": {"all": [{"field": "lifecycle_stage", "op": "eq", "value": "lead"}]}}


def test_it_refuses_a_loop_without_a_wait():
    journey = draft_journey(
        steps=[
            ("check", "branch", {"condition": LEAD, "then": "promote", "else": "done"}),
            ("promote", "set_lifecycle_stage", {"stage": "lead", "next": "check"}),
            ("done", "exit", {}),
        ]
    )
    assert journey_problems(journey) == ["Steps check → promote → check loop without a wait."]


def test_it_accepts_a_loop_through_a_wait():
    journey = draft_journey(
        steps=[
            ("check", "branch", {"condition": LEAD, "then": "pause", "else": "done"}),
            ("pause", "wait", {"days": 1, "next": "check"}),
            ("done", "exit", {}),
        ]
    )
    assert journey_problems(journey) == []
