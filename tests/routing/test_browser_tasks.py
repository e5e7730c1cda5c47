"""In a real browser: a signed inbound reply becomes the owner's task; she signs in, sees it
with its reason and a ticking countdown, completes it with a booked meeting, and the
contact's journey ends by its goal."""

import re
import urllib.request
from datetime import time
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from apps.accounts import roles
from apps.accounts.services import working_hours_set
from apps.contacts.models import Event
from apps.journeys.services import enrollment_start
from apps.routing.models import FollowUpTask
from tests.browser import PASSWORD
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build
from tests.routing.conftest import AUTH_TOKEN, INBOUND_PATH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_DAY_EVERY_DAY = {day: (time(0), time(23, 59, 59)) for day in range(7)}


def twilio_posts(base_url: str, sender: str, body: str) -> int:
    """POSTs to the live server exactly as Twilio would, signed for PUBLIC_BASE_URL + path."""
    params = {
        "MessageSid": "SM" + "b" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "+13125550000",
        "Body": body,
        "NumMedia": "0",
    }
    url = f"{base_url}{INBOUND_PATH}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(
        url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_rep_completes_the_task_an_interested_reply_made(
    live_server, new_page, make_user, make_rule, team, settings
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""
    sam = make_user(roles.SALES_REP, username="sam", team=team, first_name="Sam")
    working_hours_set(user=sam, windows=ALL_DAY_EVERY_DAY)
    make_rule(name="Interested reply", signal_types=["reply"], intents=["positive", "question"])
    contact = ContactFactory(owner=sam, first_name="Priya", last_name="Natarajan")
    journey = journey_build(
        steps=[("wait", "wait", {"days": 3})],
        exit_event_types=["meeting_booked"],
        name="Stalled prospect",
    )
    enrollment = enrollment_start(journey=journey, contact=contact)

    # Given Priya replies to a text, and Twilio posts the reply to Cue
    assert twilio_posts(live_server.url, str(contact.phone), "Yes, can someone call me?") == 200
    task = FollowUpTask.objects.get(contact=contact)
    assert task.owner == sam

    # When Sam signs in on her way to /tasks/
    page = new_page()
    page.goto(f"{live_server.url}/tasks/")
    page.wait_for_url(re.compile(r"/admin/login/\?next=/tasks/"))
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/tasks/")

    # Then she sees the task, its reason, and a countdown that ticks
    card = page.locator(f"li.task[data-task='{task.pk}']")
    expect(card.locator(".reason")).to_have_text("Replied “Yes, can someone call me?” by SMS")
    expect(page.locator("#new-task-badge")).to_have_text("1 new")
    countdown = card.locator("time.countdown")
    expect(countdown).to_have_text(re.compile(r"^Due in 1[0-5]:\d\d$"))
    before = countdown.inner_text()
    expect(countdown).not_to_have_text(before, timeout=3000)

    # When she opens it and completes it with a booked meeting
    card.locator("a.task-link").click()
    page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")
    expect(page.locator("#task-reason")).to_have_text("Replied “Yes, can someone call me?” by SMS")
    expect(page.locator("a.call")).to_have_attribute("href", f"tel:{contact.phone}")
    page.get_by_label("Meeting booked").check()
    page.click("#complete-task")

    # Then the task is done and exactly one meeting_booked event exists for Priya
    expect(page.locator(".message.success")).to_have_text("Done: Meeting booked.")
    expect(page.locator("#task-status")).to_have_text("Done: Meeting booked")
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "meeting_booked")
    assert Event.objects.filter(contact=contact, type="meeting_booked").count() == 1
    # And her journey ended by its goal at once, not when its three-day wait ran out
    enrollment.refresh_from_db()
    assert enrollment.state == "goal_reached"
