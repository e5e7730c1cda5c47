"""The weekly audit re-checks each sent text with the same recipient window as the gate: a
send inside a split area code's quiet time, or to a country Cue has no rule for, is found."""

from datetime import timedelta

import pytest

from apps.reporting.audit.checks import held_overdue, quiet_hours
from apps.sends.services.sweep import messages_sweep
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
PERIOD = {"start": T - 24 * HOUR, "end": T + 24 * HOUR}


def test_it_finds_a_send_inside_a_split_area_codes_quiet_time(scenario):
    # Given two numbers in 270 (libphonenumber: Eastern only; western Kentucky is Central)
    # with no zone or address, texted at 08:30 Eastern (07:30 Central) and at 11:00 Central
    early = scenario.contact(time_zone="", region="", phone="+12707650100")
    later = scenario.contact(time_zone="", region="", phone="+12707650101")
    too_early = scenario.message(early, sent_at=T - 3.5 * HOUR)
    scenario.message(later, sent_at=T)

    # When the audit re-checks the period
    found = quiet_hours(**PERIOD)

    # Then only the early one is a finding, and it says why
    assert (found.count, [row["id"] for row in found.rows]) == (1, [too_early.pk])
    assert found.rows[0]["why"] == (
        "07:30 in America/Chicago is outside 08:00\u201321:00 (default); the number could be "
        "in America/New_York, America/Chicago, America/Kentucky/Louisville"
    )


def test_it_finds_a_send_to_a_country_without_a_rule(scenario):
    sydney = scenario.contact(time_zone="", region="", country="AU", phone="+61412345678")
    sent = scenario.message(sydney, sent_at=T)
    found = quiet_hours(**PERIOD)
    assert (found.count, [row["id"] for row in found.rows]) == (1, [sent.pk])
    assert found.rows[0]["why"].startswith("Cue has no sending-hours rule for AU;")


def test_it_finds_a_message_still_held_past_the_expiry(scenario, settings):
    # Given the expiry at 72 h and two messages held for an unknown zone: one created
    # 73 h before the audit runs (the sweep should have ended it), one 71 h before
    settings.CUE_HELD_MESSAGE_EXPIRY_HOURS = 72
    contact = scenario.contact(time_zone="", region="", country="AU", phone="+61412345678")
    overdue = scenario.message(contact, sent_at=T - 73 * HOUR, status="held")
    scenario.message(contact, sent_at=T - 71 * HOUR, status="held", step=1)

    # When the audit runs at T over the last week
    with frozen(T):
        found = held_overdue(start=T - 7 * 24 * HOUR, end=T)

    # Then only the overdue one is a finding
    assert (found.count, [row["id"] for row in found.rows]) == (1, [overdue.pk])


def test_it_finds_nothing_held_once_the_sweep_has_expired_it(scenario, settings):
    settings.CUE_HELD_MESSAGE_EXPIRY_HOURS = 72
    contact = scenario.contact(time_zone="", region="", country="AU", phone="+61412345678")
    scenario.message(contact, sent_at=T - 73 * HOUR, status="held")
    with frozen(T):
        messages_sweep()
        found = held_overdue(start=T - 7 * 24 * HOUR, end=T)
    assert (found.count, found.rows) == (0, [])
