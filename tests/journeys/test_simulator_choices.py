"""The simulator's chosen path: the marketer picks, at each step that asks what happened (a
condition, a split, a wait until an event), which way to follow; the walk runs the steps'
own logic with those answers, each step at the time the path reaches it, so the send gate
judges a later text at its own hour. Nothing is written."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.journeys.models import Activity
from apps.journeys.simulator import journey_simulate
from apps.routing.models import FollowUpTask
from apps.sends.models import OutboundMessage
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY

pytestmark = pytest.mark.django_db


def webinar_journey(*, listen_hours: int = 48):
    """text → listen (webinar_attended, or not within `listen_hours`) → ab → check → …"""
    template = sms_template()
    return journey_build(
        steps=[
            ("text", "send_sms", {"template": template.pk, "next": "listen"}),
            ("listen", "wait_until", {"events": ["webinar_attended"],
                                      "within_hours": listen_hours, "next": "ab",
                                      "on_timeout": "nudge"}),
            ("ab", "split", {"variants": [{"name": "A", "percent": 50, "next": "thanks"},
                                          {"name": "B", "percent": 50, "next": "check"}]}),
            ("check", "branch", {"condition": {"step_outcome": {"step": "text", "is": "clicked"}},
                                 "then": "hot", "else": "nudge"}),
            ("hot", "create_task", {"reason": "Clicked the reminder."}),
            ("nudge", "send_sms", {"template": template.pk}),
            ("thanks", "exit", {}),
        ]
    )  # fmt: skip


def simulate(contact, choices, journey=None):
    return journey_simulate(
        journey=journey or webinar_journey(), contact=contact, event_type="webinar_registered",
        choices=choices,
    )  # fmt: skip


def test_with_no_choice_made_one_path_is_followed_by_the_first_way_of_each_step(
    clock, opted_in_contact
):
    simulation = simulate(opted_in_contact(), {})

    assert simulation.path == ["text", "listen", "ab", "thanks"]
    assert [step.at for step in simulation.steps] == [MIDDAY] * 4
    assert [step.forks for step in simulation.steps] == [()] * 4
    text, listen, ab = simulation.steps[:3]
    assert (text.options, text.chosen, text.decision) == ((), "", "allow")
    assert listen.options == (
        ("event", "webinar_attended happens"),
        ("timeout", "no webinar_attended within 48 h"),
    )
    assert (listen.chosen, listen.wakes_at) == ("event", None)
    assert (ab.options, ab.chosen) == ((("A", "variant A"), ("B", "variant B")), "A")
    assert simulation.ending == "Ends here (completed)."


def test_the_chosen_timeout_moves_the_path_on_when_the_wait_ends(clock, opted_in_contact):
    simulation = simulate(opted_in_contact(), {"listen": "timeout"})

    assert simulation.path == ["text", "listen", "nudge"]
    listen, nudge = simulation.steps[1:]
    later = MIDDAY + timedelta(hours=48)
    assert (listen.chosen, listen.wakes_at, listen.at) == ("timeout", later, MIDDAY)
    assert (nudge.at, nudge.decision) == (later, "allow")
    assert simulation.ending == "End of the journey (completed)."


def test_a_text_the_path_reaches_at_night_is_judged_at_that_hour(clock, opted_in_contact):
    # 16:00 UTC + 12 h is 23:00 in Chicago: outside her window, so the nudge is deferred
    journey = webinar_journey(listen_hours=12)

    simulation = journey_simulate(
        journey=journey, contact=opted_in_contact(), event_type="webinar_registered",
        choices={"listen": "timeout"},
    )  # fmt: skip

    nudge = simulation.steps[-1]
    assert (nudge.key, nudge.at) == ("nudge", MIDDAY + timedelta(hours=12))
    assert (nudge.decision, nudge.reason_code) == ("defer", "quiet_hours")


def test_each_choice_takes_its_way_through_the_split_and_the_condition(clock, opted_in_contact):
    contact, journey = opted_in_contact(), webinar_journey()

    clicked = simulate(contact, {"ab": "B", "check": "then"}, journey)
    not_clicked = simulate(contact, {"ab": "B", "check": "else"}, journey)

    assert clicked.path == ["text", "listen", "ab", "check", "hot"]
    check = clicked.steps[3]
    assert (check.options, check.chosen) == ((("then", "clicked"), ("else", "not clicked")), "then")
    assert not_clicked.path == ["text", "listen", "ab", "check", "nudge"]
    assert not_clicked.steps[3].chosen == "else"


def test_a_choice_naming_no_step_or_no_way_is_ignored(clock, opted_in_contact):
    contact, journey = opted_in_contact(), webinar_journey()

    odd = simulate(contact, {"listen": "bogus", "nowhere": "then", "ab": "\x00"}, journey)

    assert odd.path == simulate(contact, {}, journey).path == ["text", "listen", "ab", "thanks"]


def test_choosing_writes_nothing(clock, opted_in_contact):
    contact = opted_in_contact()
    counts = [m.objects.count() for m in (OutboundMessage, Activity, FollowUpTask)]

    simulate(contact, {"ab": "B", "check": "then"})

    assert [m.objects.count() for m in (OutboundMessage, Activity, FollowUpTask)] == counts


def test_without_choices_every_way_is_still_followed(clock, opted_in_contact):
    simulation = simulate(opted_in_contact(), None)

    assert simulation.path == ["text", "listen"]
    assert [fork.label for fork in simulation.steps[1].forks] == [
        "webinar_attended happens",
        "no webinar_attended within 48 h",
    ]
    assert [step.at for step in simulation.steps] == [None, None]


def test_the_page_follows_the_chosen_outcomes(client, clock, make_user, opted_in_contact):
    journey = webinar_journey()
    contact = opted_in_contact()
    client.force_login(make_user(roles.MARKETER))
    url = reverse("admin:journeys_journey_simulate", args=[journey.pk])
    query = {
        "run": "1", "contact": str(contact.pk), "event_type": "webinar_registered",
        "follow": "chosen", "choose__listen": "timeout", "choose__" + "x" * 500: "y" * 500,
    }  # fmt: skip

    response = client.get(url, query)

    assert response.status_code == 200
    assert response.context["simulation"].path == ["text", "listen", "nudge"]
    page = response.content.decode()
    assert '<option value="timeout" selected>no webinar_attended within 48 h</option>' in page
    assert 'name="choose__listen" id="choose-listen" form="simulate-form"' in page
    # Thursday 11:00 in Chicago, when the wait ends and the nudge goes
    assert "Thu 12 Mar 2026 11:00 CDT</time> (contact, America/Chicago)" in page
    # Without "follow": every way, no choosing
    every = client.get(url, {k: v for k, v in query.items() if k != "follow"})
    assert every.context["simulation"].path == ["text", "listen"]
    assert 'id="choose-listen"' not in every.content.decode()
