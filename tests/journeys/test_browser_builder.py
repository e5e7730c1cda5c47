"""In a real browser: a marketer opens a seeded blueprint in the builder, sees its diagram,
and simulates it for a demo contact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.demo import DEMO_PASSWORD
from apps.core.demo import demo_seed
from apps.journeys.models import Journey
from apps.sends.models import OutboundMessage
from tests.browser import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_a_blueprints_diagram_and_simulates_a_demo_contact(live_server, page):
    from playwright.sync_api import expect

    # Given the demo workspace, with the six blueprints live
    workspace = demo_seed()
    priya = workspace["contacts"]["demo-2"]
    journey = Journey.objects.get(name="Webinar reminder")

    # When Maria opens the webinar journey from the list
    login(page, live_server, workspace["users"]["maria"], password=DEMO_PASSWORD)
    page.goto(f"{live_server.url}/admin/journeys/journey/")
    page.get_by_role("link", name="Webinar reminder", exact=True).click()

    # Then she sees it is live, and its diagram: a box per step, an arrow per edge
    expect(page.locator("#cue-live-banner")).to_be_visible()
    diagram = page.locator("#cue-diagram svg.cue-journey-diagram")
    expect(diagram).to_be_visible()
    keys = diagram.locator("g.cue-step").evaluate_all("gs => gs.map(g => g.dataset.key)")
    assert sorted(keys) == sorted(s.key for s in journey.steps.all())
    expect(diagram.locator('g.cue-edge[data-from="attend"][data-label="timeout"]')).to_have_count(1)
    _screenshot(page)
    # And each step shows only the settings of its kind
    expect(page.locator("#steps-1 fieldset.cue-kind-split")).to_be_hidden()
    expect(page.locator("#steps-1 fieldset.cue-kind-send_sms").first).to_be_visible()

    # When she simulates Priya registering for the webinar
    sent_before = OutboundMessage.objects.count()
    page.click("#cue-simulate")
    page.fill("#id_contact_search", priya.email)
    expect(page.locator("#id_event_type")).to_have_value("webinar_registered")
    starts_at = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    page.fill("#id_property__starts_at", starts_at.isoformat())
    page.click("#simulate-run")

    # Then she sees the path up to the first wait for an event, with both of its edges
    rows = page.locator("#simulation-path > tbody > tr.cue-sim-step")
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.key)") == [
        "before_start",
        "remind",
        "attend",
    ]
    reminder = starts_at - timedelta(hours=1)
    expect(rows.nth(0)).to_contain_text(
        f"Waiting until {reminder:%Y-%m-%d %H:%M} UTC (1 h before starts_at)."
    )
    expect(rows.nth(1).locator(".cue-decision")).to_have_count(1)
    forks = page.locator('#simulation-path > tbody > tr.cue-sim-forks[data-key="attend"]')
    expect(forks).to_contain_text("no webinar_attended within 3 h → missed")
    expect(page.locator("#simulation-ending")).to_have_text(
        "At attend the path divides: what comes next depends on whether webinar_attended happens. "
        "Each way is followed."
    )
    # And nothing was sent
    assert OutboundMessage.objects.count() == sent_before


def _screenshot(shown) -> None:
    """The builder at 1366×768 as a marketer sees it: the diagram, a step opened from it
    (Tab, Enter) with its edge chosen for Connect to…, for the README's tour
    (docs/screenshots/journey-builder.png is a copy)."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "journey-builder.png"
    shown.set_viewport_size({"width": 1366, "height": 768})
    shown.locator('#cue-diagram g.cue-step[data-key="attend"]').focus()
    shown.keyboard.press("Enter")
    expect(shown.locator("#cue-edge-choice option")).to_have_text(
        ["next → recording", "timeout → missed"]
    )
    shown.select_option("#cue-edge-choice", "on_timeout")
    shown.locator(".cue-journey-map").screenshot(path=str(path))
    assert path.stat().st_size > 0
