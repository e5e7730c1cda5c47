"""In a real browser: right after `seed_demo` the marketer signs in and the admin index
shows the dashboard with real figures (the demo's history, rolled up by the seeder itself,
no beat run needed): the funnel as SVG, non-zero numbers, the inbox figures, the app list
below. "Refresh now" runs a refresh on the worker and shows its progress; the By-journey
table fits a 1366-pixel screen."""

import pytest
from django.core.management import call_command
from django.db.models import Sum

from apps.accounts.demo import DEMO_PASSWORD
from apps.accounts.models import User
from apps.reporting.models import DailyRollup, RollupRefresh
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_marketer_the_dashboard_of_the_demo(live_server, page):
    from playwright.sync_api import expect

    call_command("seed_demo")
    sent = DailyRollup.objects.aggregate(sent=Sum("sent"))["sent"]
    assert sent > 0

    login(page, live_server, User.objects.get(username="maria"), password=DEMO_PASSWORD)

    dashboard = page.locator("#cue-dashboard")
    expect(dashboard).to_be_visible()
    funnel = dashboard.locator("svg.cue-funnel")
    expect(funnel).to_be_visible()
    expect(funnel.locator("rect")).to_have_count(7)
    expect(funnel.locator("text.label").first).to_have_text("Enrolled (messaged)")
    expect(dashboard.locator("svg.cue-trend").first).to_be_visible()
    expect(page.locator("#kpi-sent")).to_have_text(f"{sent:,}")
    expect(page.locator("#kpi-clicks")).not_to_have_text("0")
    expect(page.locator("#cue-refreshed-at")).to_contain_text("Figures last refreshed")
    expect(page.locator("#inbox-open")).to_be_visible()
    expect(page.locator("#cue-dashboard-table tbody tr")).not_to_have_count(0)
    expect(page.locator("#content-main .app-journeys")).to_be_visible()  # the app list below
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)  # compliance only


def test_it_refreshes_the_figures_on_demand_and_shows_its_progress(live_server, page):
    from playwright.sync_api import expect

    call_command("seed_demo")
    login(page, live_server, User.objects.get(username="maria"), password=DEMO_PASSWORD)

    page.click("#cue-refresh")

    progress = page.locator("#cue-refresh-progress")
    expect(progress).to_have_text(
        "Figures refreshed (2 days recomputed). Reload the page to see them."
    )
    expect(progress).to_have_attribute("data-stage", "done")
    expect(page.locator("#cue-refreshed-at")).to_have_text("Figures last refreshed just now.")
    refresh = RollupRefresh.objects.get()
    assert (refresh.requested_by.username, refresh.days) == ("maria", 2)
    assert refresh.finished_at >= refresh.started_at >= refresh.requested_at


def test_it_fits_the_by_journey_table_on_a_1366_pixel_screen(live_server, page):
    call_command("seed_demo")
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, User.objects.get(username="maria"), password=DEMO_PASSWORD)

    sizes = page.evaluate(
        """() => {
          const box = document.querySelector("#cue-dashboard-table").parentElement;
          return {
            page: document.documentElement.scrollWidth,
            viewport: window.innerWidth,
            boxRight: Math.ceil(box.getBoundingClientRect().right),
          };
        }"""
    )

    assert sizes["page"] <= sizes["viewport"] == 1366
    assert sizes["boxRight"] <= 1366
