from datetime import time

import pytest

from apps.accounts import roles
from apps.accounts.services import working_hours_set
from apps.routing.services import signal_route
from tests.browser import PASSWORD
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_screens(live_server, browser, make_user, make_rule, team, manager):
    sam = make_user(roles.SALES_REP, username="sam", team=team, first_name="Sam")
    working_hours_set(user=sam, windows={d: (time(0), time(23, 59)) for d in range(7)})
    make_rule(name="R", signal_types=["journey_step"])
    for name in ("Priya", "Tom", "Lena"):
        c = ContactFactory(owner=sam, first_name=name, last_name="Doe")
        t = signal_route(contact=c, signal_type="journey_step", reason=f"Replied “yes call me tomorrow” to Webinar reminder", context={})
    for user, name in ((sam, "rep"), (manager, "mgr")):
        ctx = browser.new_context(viewport={"width": 390, "height": 844})
        page = ctx.new_page()
        page.goto(f"{live_server.url}/tasks/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/tasks/")
        page.wait_for_timeout(1200)
        page.screenshot(path=f"/tmp/screen-{name}-list.png", full_page=True)
        page.goto(f"{live_server.url}/tasks/{t.pk}/")
        page.get_by_label("Not interested").check()
        page.wait_for_timeout(300)
        page.screenshot(path=f"/tmp/screen-{name}-detail.png", full_page=True)
        ctx.close()
