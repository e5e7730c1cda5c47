"""In a real browser: two texts that are no keyword and no buying signal land in the inbox;
Sam answers one at once, and the other (a number where it is night now) is held by quiet
hours, which the page says in words. On a phone the inbox fits the screen."""

import itertools
import re
import urllib.request
from datetime import UTC, datetime, time
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from apps.accounts import roles
from apps.accounts.services import working_hours_set
from apps.inbox.models import Conversation
from apps.sends.models import OutboundMessage
from tests.browser import PASSWORD
from tests.routing.conftest import AUTH_TOKEN, INBOUND_PATH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_DAY_EVERY_DAY = {day: (time(0), time(23, 59, 59)) for day in range(7)}
_sids = itertools.count(1)


def twilio_posts(base_url: str, sender: str, body: str) -> int:
    """POSTs a text to the live server as Twilio would: signed, each with its own sid."""
    params = {
        "MessageSid": f"SM{next(_sids):032d}",
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


def zone_where_it_is(hour: int) -> str:
    """A fixed-offset zone whose local hour is `hour` now (the browser test runs in real
    time, so the zone is chosen to put the contact in day or night)."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" + ("" if offset == 0 else f"{-offset:+d}")


def signs_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/inbox/")
    page.wait_for_url(re.compile(r"/admin/login/\?next=/inbox/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/inbox/")


def test_a_rep_answers_the_inbox_and_sees_a_quiet_hours_hold_in_words(
    live_server, new_page, make_user, team, settings, opted_in_contact
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""
    sam = make_user(roles.SALES_REP, username="sam", team=team, first_name="Sam")
    working_hours_set(user=sam, windows=ALL_DAY_EVERY_DAY)
    day = opted_in_contact(
        owner=sam, first_name="Priya", last_name="Day", time_zone=zone_where_it_is(12), region=""
    )
    night = opted_in_contact(
        owner=sam, first_name="Noah", last_name="Night", time_zone=zone_where_it_is(23), region=""
    )

    # Given two texts that are no keyword and ask for nobody
    assert twilio_posts(live_server.url, str(day.phone), "What room is it in?") == 200
    assert twilio_posts(live_server.url, str(night.phone), "Thanks for the slides") == 200
    assert Conversation.objects.filter(assigned_user=sam, status="unread").count() == 2

    # When Sam signs in to the inbox
    page = new_page()
    signs_in(page, live_server.url, "sam")

    # Then both wait in her list, unread, with their last words
    rows = page.locator("li.conversation")
    expect(rows).to_have_count(2)
    expect(page.locator(".summary [data-count=unread]")).to_have_text("2")
    # with the time left to answer ticking (the default hour to answer)
    noah_due = page.locator("li.conversation", has_text="Noah Night").locator("time.countdown")
    expect(noah_due).to_have_text(re.compile(r"^Due in [1-5]?\d:\d\d$"))
    expect(page.locator("li.conversation", has_text="Priya Day")).to_contain_text(
        "What room is it in?"
    )

    # When she opens Priya's and answers
    page.locator("li.conversation a", has_text="Priya Day").click()
    expect(page.locator("#quiet-hours")).to_have_text("No: a text now goes at once")
    page.get_by_label("Reply", exact=True).fill("Room 4B, see you there!")
    page.click("#reply-form button[type=submit]")

    # Then it was sent through the gate, and the thread shows it
    expect(page.locator(".message.success")).to_have_text("Sent.")
    expect(page.locator(".thread .outbound").last).to_contain_text("Room 4B, see you there!")
    assert OutboundMessage.objects.get(contact=day, origin="rep_reply").decision == "allow"

    # When she opens Noah's, where it is 23:00
    page.goto(f"{live_server.url}/inbox/")
    page.locator("li.conversation a", has_text="Noah Night").click()
    expect(page.locator("#quiet-hours")).to_contain_text("Quiet hours: 23:")
    page.get_by_label("Reply", exact=True).fill("Glad they helped!")
    page.click("#reply-form button[type=submit]")

    # Then the page says in words why it waits and when it will go
    warning = page.locator(".message.warning")
    expect(warning).to_contain_text("Not sent now.")
    expect(warning).to_contain_text("is outside")
    expect(warning).to_contain_text(re.compile(r"it will go at \w{3} 0?8:00"))
    assert OutboundMessage.objects.get(contact=night, origin="rep_reply").decision == "defer"

    # And on a phone the inbox and a conversation fit the screen's width
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/inbox/", f"/inbox/{Conversation.objects.get(contact=night).pk}/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
