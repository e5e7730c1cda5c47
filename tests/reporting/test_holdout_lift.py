"""Holdout lift: messaged vs holdout conversion with Newcombe's 95% interval, from rollups."""

from datetime import timedelta

import pytest

from apps.reporting.lift import holdout_lift, wilson_interval
from apps.reporting.selectors import journey_lift
from apps.reporting.services.rollups import reporting_refresh
from tests.reporting.conftest import BUILT_AT, T
from tests.reporting.scenario import Scenario, frozen

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def test_it_matches_wilsons_interval_as_published():
    # Newcombe (1998), Statistics in Medicine 17:857–872, table I: 81/263 → 0.2553 to 0.3662
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_it_matches_newcombes_method_10_as_published():
    # Newcombe (1998), table II, example (a): 56/70 − 48/80 → 0.0524 to 0.3339
    lift = holdout_lift(messaged=70, messaged_converted=56, holdout=80, holdout_converted=48)
    assert round(lift.difference, 4) == 0.2
    assert (round(lift.low, 4), round(lift.high, 4)) == (0.0524, 0.3339)
    assert lift.is_significant is True


def test_it_has_no_lift_without_a_holdout():
    assert holdout_lift(messaged=10, messaged_converted=3, holdout=0, holdout_converted=0) is None


@pytest.mark.django_db
def test_it_compares_messaged_and_holdout_contacts_of_a_journey():
    """Given 10 messaged entrants (4 convert: 2 by the journey's goal, 2 by a meeting within
    the window, 1 more meeting just too late) and 5 holdout entrants (1 converts)."""
    with frozen(BUILT_AT):
        scenario = Scenario(name="Demo follow-up", holdout_percent=30)
    for index in range(10):
        contact = scenario.contact()
        goal = T + DAY if index < 2 else None
        scenario.enrollment(contact, at=T, goal_at=goal)
        if index in (2, 3):
            scenario.meeting(contact, T + 14 * DAY - HOUR)
        if index == 4:
            scenario.meeting(contact, T + 14 * DAY + HOUR)  # outside the 14-day window
    for index in range(5):
        contact = scenario.contact()
        scenario.enrollment(contact, at=T, holdout=True)
        if index == 0:
            scenario.meeting(contact, T + 3 * DAY)
    with frozen(T + 20 * DAY):
        reporting_refresh()
    lift = journey_lift(journey_id=scenario.journey.pk, start=T.date(), end=T.date())
    assert (lift.messaged, lift.messaged_converted, lift.holdout, lift.holdout_converted) == (
        10, 4, 5, 1,
    )  # fmt: skip
    assert (lift.messaged_rate, lift.holdout_rate) == (0.4, 0.2)
    assert round(lift.difference, 4) == 0.2
    assert (round(lift.low, 4), round(lift.high, 4)) == (-0.2836, 0.5307)
    assert lift.is_significant is False
    assert lift.relative == pytest.approx(1.0)
