"""In a real browser: a marketer finds a contact by name, simulates a journey with a
condition, and sees both ways of it followed to their ends, with the gate's decision on
each send; nothing is sent or written."""

from datetime import UTC, datetime

import pytest
from django.apps import apps

from apps.accounts import roles
from tests.browser import login
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template


def zone_where_it_is(hour: int) -> str:
    """A fixed-offset zone whose local hour is `hour` now."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" + ("" if offset == 0 else f"{-offset:+d}")


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEADS = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}]}


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_it_follows_both_branches_of_a_condition(live_server, page, opted_in_contact):
    from playwright.sync_api import expect

    # Given a journey: leads get an invitation, everyone else a nudge
    invite = sms_template(name="Invitation")
    journey = journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": LEADS}, "then": "invite", "else": "nudge"}),
            ("invite", "send_sms", {"template": invite.pk}),
            ("nudge", "send_sms", {"template": sms_template(name="Nudge").pk}),
        ]
    )
    # The page runs on the real clock: Grace lives where it is midday now, inside her window.
    grace_zone = zone_where_it_is(12)
    opted_in_contact(
        first_name="Grace",
        last_name="Hopper",
        lifecycle_stage="customer",
        time_zone=grace_zone,
        region="",
    )
    marketer = UserFactory(role=roles.MARKETER, time_zone="Europe/London")

    # When the marketer simulates Grace, found by her name
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/simulate/")
    before = row_counts()  # signed in: the session and the sign-in are written by now
    page.fill("#id_contact_search", "Grace Hop")
    page.click("#simulate-run")

    # Then Grace, a customer, takes "else" to the nudge, which would go now
    main = page.locator("#simulation-path > tbody > tr.cue-sim-step")
    expect(main).to_have_count(2)
    assert main.evaluate_all("rs => rs.map(r => r.dataset.key)") == ["check", "nudge"]
    expect(main.nth(1).locator(".cue-decision")).to_have_text("allow")
    expect(page.locator("#simulation-ending")).to_have_text("End of the journey (completed).")
    # And the other branch is followed too: the invitation, with its own gate decision
    forks = page.locator('#simulation-path > tbody > tr.cue-sim-forks[data-key="check"]')
    taken = forks.locator('li.cue-fork-taken[data-label="if it does not"]')
    expect(taken).to_contain_text("the way this contact goes")
    other = forks.locator('li.cue-fork[data-label="if it holds"]')
    expect(other.locator("tr.cue-sim-step")).to_have_count(1)
    expect(other.locator('tr.cue-sim-step[data-key="invite"]')).to_contain_text(
        "Sends “Invitation” now."
    )
    expect(other.locator(".cue-decision")).to_have_text("allow")
    expect(other.locator(".cue-ending")).to_have_text("End of the journey (completed).")
    # And the time is shown in Grace's zone and the marketer's
    expect(page.locator(".cue-sim-at")).to_contain_text(f"(contact, {grace_zone})")
    expect(page.locator(".cue-sim-at")).to_contain_text("(you, Europe/London)")
    # And nothing was sent or written
    assert row_counts() == before
