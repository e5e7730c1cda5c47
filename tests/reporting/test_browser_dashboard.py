"""In a real browser: after `seed_demo` (and the beat's refresh), the marketer signs in and
the admin index shows the dashboard: the funnel as SVG, the numbers, the app list below."""

import pytest
from django.core.management import call_command
from django.db.models import Sum

from apps.accounts.demo import DEMO_PASSWORD
from apps.accounts.models import User
from apps.reporting.models import DailyRollup
from apps.reporting.tasks import reporting_refresh_task
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_marketer_the_dashboard_of_the_demo(live_server, page):
    from playwright.sync_api import expect

    call_command("seed_demo")
    reporting_refresh_task()  # what the beat does every ten minutes
    sent = DailyRollup.objects.aggregate(sent=Sum("sent"))["sent"] or 0

    login(page, live_server, User.objects.get(username="maria"), password=DEMO_PASSWORD)

    dashboard = page.locator("#cue-dashboard")
    expect(dashboard).to_be_visible()
    funnel = dashboard.locator("svg.cue-funnel")
    expect(funnel).to_be_visible()
    expect(funnel.locator("rect")).to_have_count(7)
    expect(funnel.locator("text.label").first).to_have_text("Enrolled (messaged)")
    expect(dashboard.locator("svg.cue-trend").first).to_be_visible()
    expect(page.locator("#kpi-sent")).to_have_text(f"{sent:,}")
    expect(page.locator("#kpi-opt-outs")).to_have_text("–" if not sent else "0.00%")
    expect(page.locator("#cue-dashboard-table")).to_be_visible()
    expect(page.locator("#content-main .app-journeys")).to_be_visible()  # the app list below
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)  # compliance only
