"""In a real browser, on a freshly seeded demo at a weekend time and at a weekday time: the
rep sees the team queue (and why her own list is empty at the weekend), takes the demo
request waiting there, and works it on a phone-sized screen; the manager reassigns only
after naming the rep and confirming."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from apps.accounts.demo import DEMO_PASSWORD
from apps.routing.models import FollowUpTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Sunday 6 December 2026, 15:00 in New York; Tuesday 8 December 2026, 11:00 in New York.
WEEKEND = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
WEEKDAY = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def sign_in_to_tasks(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/tasks/")
    page.wait_for_url(re.compile(r"/admin/login/\?next=/tasks/"))
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/tasks/")


def aiko_task() -> FollowUpTask:
    return FollowUpTask.objects.select_related("owner").get(contact__external_id="demo-6")


@pytest.mark.parametrize(
    ("when", "own", "explained"),
    [
        (
            WEEKEND,
            [],
            "No open follow-ups. 3 tasks wait in East Coast Sales; "
            "you are outside working hours until Mon 09:00.",
        ),
        (WEEKDAY, ["Priya Natarajan"], None),
    ],
    ids=["weekend", "weekday"],
)
def test_the_rep_sees_the_queue_and_takes_the_demo_request(
    live_server, new_page, when, own, explained
):
    from playwright.sync_api import expect

    with time_machine.travel(when, tick=True):
        call_command("seed_demo")
        waiting = aiko_task()
        assert (waiting.owner, waiting.priority, waiting.sla_minutes) == (None, 1, 5)

        page = new_page()
        sign_in_to_tasks(page, live_server, "sam")

        mine = page.locator("ul.tasks:not(.queue) li.task .contact")
        expect(mine).to_have_text(own)
        if explained:
            expect(page.locator("#empty-explained")).to_have_text(explained)
        else:
            expect(page.locator("#empty-explained")).to_have_count(0)
        queued = page.locator(f"ul.queue li.task[data-task='{waiting.pk}']")
        expect(page.locator("#queue-heading")).to_have_text("Waiting in the East Coast Sales queue")
        expect(queued.locator(".reason")).to_have_text("Requested a demo on the pricing page")
        expect(queued.locator(".priority")).to_have_text("Urgent")

        queued.get_by_role("button", name="Take it").click()
        page.wait_for_url(f"{live_server.url}/tasks/{waiting.pk}/")
        expect(page.locator(".message.success")).to_have_text("It's yours now.")
        taken = aiko_task()
        assert (taken.owner.username, taken.assignment) == ("sam", "taken")

        # On a phone the task page fits the screen and its actions are in reach
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator("#start-task")).to_be_visible()
        expect(page.locator("a.call")).to_have_attribute("href", "tel:+14155550146")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.click("#start-task")
        expect(page.locator("#task-status")).to_have_text("In progress")


def test_the_manager_reassigns_only_after_choosing_and_confirming(live_server, new_page):
    from playwright.sync_api import expect

    with time_machine.travel(WEEKDAY, tick=True):
        call_command("seed_demo")
        task = aiko_task()
        page = new_page()
        sign_in_to_tasks(page, live_server, "morgan")

        card = page.locator(f"li.task[data-task='{task.pk}']")
        expect(card.locator("select[name=owner] option:checked")).to_have_text("Choose a rep…")
        card.locator("a.task-link").click()
        page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")
        expect(page.locator("#id_owner option:checked")).to_have_text("Choose a rep…")

        page.select_option("#id_owner", label="Riley Rep")
        page.click("#reassign-task")
        expect(page.locator("#reassign-question")).to_contain_text(
            "to Riley Rep, out of the East Coast Sales queue?"
        )
        assert aiko_task().owner is None  # nothing changed yet

        page.click("#confirm-reassign")
        page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")
        expect(page.locator(".message.success")).to_have_text("Reassigned to Riley Rep.")
        reassigned = aiko_task()
        assert (reassigned.owner.username, reassigned.assignment) == ("riley", "reassigned")
