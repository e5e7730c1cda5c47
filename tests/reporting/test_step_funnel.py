"""A chosen journey's funnel, step by step, for the people who entered in the range: who
reached each step, what its texts did, who reached the goal; in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.journeys.models import Activity
from apps.reporting.step_funnel import StepFigures, journey_step_funnel
from tests.reporting.conftest import T

pytestmark = pytest.mark.django_db

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def walked(scenario):
    """Three people entered at T: all reached sms-0, two sms-1, one the goal. Their texts:
    sms-0 to all three (two delivered, one clicked by a person, one by a bot), sms-1 to two
    (one delivered). A holdout and someone who entered a month earlier are not counted."""
    people = [scenario.contact() for _ in range(5)]
    entered = [
        scenario.enrollment(people[0], at=T, goal_at=T + DAY),
        scenario.enrollment(people[1], at=T),
        scenario.enrollment(people[2], at=T),
        scenario.enrollment(people[3], at=T, holdout=True),
        scenario.enrollment(people[4], at=T - 40 * DAY),
    ]
    for enrollment in entered[:3] + entered[4:]:
        _reached(enrollment, "sms-0")
    for enrollment in entered[:2]:
        _reached(enrollment, "sms-1")
    first = [_text(scenario, entered[n], step=0, delivered=n < 2) for n in (0, 1, 2, 4)]
    scenario.click(first[0], T + HOUR)
    scenario.click(first[0], T + 2 * HOUR)  # the same person twice: one message clicked
    scenario.click(first[1], T + HOUR, bot=True)
    scenario.click(first[3], T - 39 * DAY)  # outside the cohort
    _text(scenario, entered[0], step=1, delivered=True)
    _text(scenario, entered[1], step=1, delivered=False)
    return scenario


def _reached(enrollment, key: str) -> None:
    Activity.objects.create(enrollment=enrollment, kind=Activity.Kind.STEP, step_key=key)


def _text(scenario, enrollment, *, step: int, delivered: bool):
    at = enrollment.entered_at + HOUR
    message = scenario.message(
        enrollment.contact, sent_at=at, step=step, delivered_at=at if delivered else None
    )
    message.enrollment_id = enrollment.pk
    message.save(update_fields=["enrollment_id"])
    return message


def test_it_counts_each_step_of_the_people_who_entered(walked, django_assert_num_queries):
    with django_assert_num_queries(6):
        funnel = journey_step_funnel(journey_id=walked.journey.pk, start=T - DAY, end=T + 2 * DAY)

    assert (funnel.journey, funnel.entered, funnel.goal_reached) == ("Webinar", 3, 1)
    assert funnel.steps == [
        StepFigures("sms-0", "Send SMS", reached=3, sent=3, delivered=2, clicked=1),
        StepFigures("sms-1", "Send SMS", reached=2, sent=2, delivered=1, clicked=0),
    ]


def test_it_shows_the_steps_of_the_chosen_journey_on_the_dashboard(walked, client, make_user):
    client.force_login(make_user(roles.MARKETER))
    range_ = {"start": (T - DAY).date().isoformat(), "end": (T + DAY).date().isoformat()}

    chosen = client.get(reverse("admin:index"), {**range_, "journey": walked.journey.pk})
    everything = client.get(reverse("admin:index"), range_)

    html = chosen.content.decode()
    assert 'id="step-entered">3<' in html
    assert (
        '<tr data-step="sms-0"><td>sms-0</td><td>Send SMS</td>'
        "<td>3</td><td>3</td><td>2</td><td>1</td></tr>" in html
    )
    assert 'id="step-goal">1<' in html
    assert 'id="cue-step-funnel"' not in everything.content.decode()
