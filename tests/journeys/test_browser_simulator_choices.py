"""In a real browser: a marketer simulates one way through a journey, choosing what happens
at each step that asks (the reply comes or not, variant A or B), and sees the path taken
with each step's time in the contact's zone; nothing is sent or written."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.accounts import roles
from tests.browser import login
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.test_browser_redraw import console_errors
from tests.journeys.test_browser_simulator import row_counts, zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_marketer_chooses_each_outcome_and_sees_the_path_in_her_contacts_time(
    live_server, page, opted_in_contact
):
    from playwright.sync_api import expect

    # Given a journey: a text, then a reply within 2 days (a task) or not (a split: A nudges)
    journey = journey_build(
        steps=[
            ("text", "send_sms", {"template": sms_template(name="Reminder").pk, "next": "listen"}),
            ("listen", "wait_until", {"events": ["sms_reply"], "within_hours": 48,
                                      "next": "hot", "on_timeout": "ab"}),
            ("hot", "create_task", {"reason": "Replied to the reminder."}),
            ("ab", "split", {"variants": [{"name": "A", "percent": 50, "next": "nudge"},
                                          {"name": "B", "percent": 50, "next": "thanks"}]}),
            ("nudge", "send_sms", {"template": sms_template(name="Nudge").pk}),
            ("thanks", "exit", {}),
        ]
    )  # fmt: skip
    # The page runs on the real clock: Ada lives where it is midday now, inside her window.
    zone = zone_where_it_is(12)
    opted_in_contact(first_name="Ada", last_name="Lovelace", time_zone=zone, region="")
    errors = console_errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, UserFactory(role=roles.MARKETER, time_zone="Europe/London"))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/simulate/")
    before = row_counts()

    # When she simulates Ada, following one way, with nothing chosen yet
    page.fill("#id_contact_search", "Ada Love")
    page.get_by_label("One way: I choose what happens at each step that asks").check()
    page.click("#simulate-run")

    # Then the path takes the first way of each step: the reply comes, a task is made
    rows = page.locator("#simulation-path > tbody > tr.cue-sim-step")
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.key)") == ["text", "listen", "hot"]
    listen = page.locator("#choose-listen")
    expect(listen).to_have_value("event")
    expect(listen.locator("option")).to_have_text(["sms_reply happens", "no sms_reply within 48 h"])
    expect(page.locator("#simulation-path tr.cue-sim-forks")).to_have_count(0)

    # When she chooses no reply within 2 days, from the keyboard, and follows it
    listen.focus()
    listen.select_option("timeout")
    page.locator('tr[data-key="listen"] .cue-follow-again').press("Enter")

    # Then the path goes through the split (A first) to the nudge, two days later
    expect(rows).to_have_count(4)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.key)") == [
        "text", "listen", "ab", "nudge",
    ]  # fmt: skip
    expect(page.locator("#choose-listen")).to_have_value("timeout")
    expect(page.locator("#choose-ab")).to_have_value("A")
    times = rows.evaluate_all(
        "rs => rs.map(r => r.querySelector('.cue-sim-when time').getAttribute('datetime'))"
    )
    entered, nudged = datetime.fromisoformat(times[0]), datetime.fromisoformat(times[3])
    assert nudged - entered == timedelta(hours=48)
    local = nudged.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")
    expect(rows.nth(3).locator(".cue-sim-when")).to_contain_text(f"{local} (contact, {zone})")
    assert nudged.astimezone(ZoneInfo(zone)).hour == 12
    expect(rows.nth(3).locator(".cue-decision")).to_have_text("allow")

    # When she chooses variant B
    page.locator("#choose-ab").select_option("B")
    page.locator('tr[data-key="ab"] .cue-follow-again').click()

    # Then the path ends at thanks, and the choices made stay chosen
    expect(rows).to_have_count(4)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.key)") == [
        "text", "listen", "ab", "thanks",
    ]  # fmt: skip
    expect(page.locator("#choose-listen")).to_have_value("timeout")
    expect(page.locator("#choose-ab")).to_have_value("B")
    expect(page.locator("#simulation-ending")).to_have_text("Ends here (completed).")
    # And nothing was sent or written, and the page logged no error
    assert row_counts() == before
    assert errors == [], errors
