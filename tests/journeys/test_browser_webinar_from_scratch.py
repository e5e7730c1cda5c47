"""In a real browser, at 1366×768: a new marketer builds a webinar journey from nothing
(trigger picked, an SMS reminder from an approved template, a wait, a branch on whether the
reminder was clicked, then a follow-up text or the end) without typing a step key or any
JSON, mostly from the keyboard; she submits it, an approver approves and publishes it
(which activates it), and the saved journey holds exactly those steps and links."""

import pytest

from apps.accounts import roles
from apps.journeys.models import Journey, JourneyStatus
from tests.browser import login
from tests.factories import UserFactory
from tests.journeys.builders import sms_template
from tests.journeys.test_browser_redraw import console_errors, edges

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Webinar: remind, then follow up"


def open_box(page, key: str) -> None:
    """Tab to a step's box in the diagram and press Enter: its settings and tools open.
    (A box being redrawn as it is focused is gone: focus the one drawn. The page keeps
    a focused box focused through a redraw.)"""
    from playwright.sync_api import expect

    box = page.locator(f'#cue-diagram g.cue-step[data-key="{key}"]')
    for _ in range(20):
        box.focus()
        if box.evaluate("b => document.activeElement === b"):
            break
        page.wait_for_timeout(100)
    page.keyboard.press("Enter")
    expect(page.locator("#cue-diagram-detail")).to_contain_text(f"{key}: ")


def add_on_edge(page, key: str, edge: str | None = None) -> None:
    """From the diagram: open the step, choose its edge, and add a step on it."""
    from playwright.sync_api import expect

    open_box(page, key)
    expect(page.locator("#cue-diagram-actions")).to_be_visible()
    if edge:
        page.locator("#cue-edge-choice").select_option(edge)
    page.locator("#cue-add-after").focus()
    page.keyboard.press("Enter")


def test_a_new_marketer_builds_a_webinar_journey_and_an_approver_puts_it_live(
    live_server,
    new_page,
):
    from playwright.sync_api import expect

    reminder = sms_template(name="Webinar reminder")
    replay = sms_template(name="Replay link")
    maria = UserFactory(role=roles.MARKETER, username="maria")
    alex = UserFactory(role=roles.APPROVER, username="alex")
    page = new_page()
    errors = console_errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})

    # When Maria starts a journey and picks its trigger from the known event types
    login(page, live_server, maria)
    page.goto(f"{live_server.url}/admin/journeys/journey/add/")
    page.fill("#id_name", NAME)
    page.select_option("#id_trigger_event_type", "webinar_registered")

    # And makes the first step an SMS reminder: its key comes from its kind
    page.select_option("#id_steps-0-kind", "send_sms")
    expect(page.locator("#id_steps-0-key")).to_have_value("sms_1")
    page.select_option("#id_steps-0-sms_template", str(reminder.pk))
    # (a text step offers SMS templates and senders, no email template)
    expect(page.locator("#steps-0 .form-row.field-email_template")).to_be_hidden()
    expect(page.locator("#steps-0 .form-row.field-sms_sender")).to_be_visible()
    expect(page.locator('#cue-diagram g.cue-step[data-key="sms_1"]')).to_have_count(1)

    # And adds, from the diagram, a two-day wait after it
    add_on_edge(page, "sms_1")
    expect(page.locator("#id_steps-1-key")).to_have_value("step_2")
    expect(page.locator("#id_steps-1-kind")).to_be_focused()
    page.select_option("#id_steps-1-kind", "wait")
    page.fill("#id_steps-1-wait_amount", "2")
    page.select_option("#id_steps-1-wait_unit", "days")
    expect(page.locator('#cue-diagram g.cue-step[data-key="step_2"] title')).to_have_text(
        "step_2: Wait, waits 2 days"
    )

    # And a branch on whether the reminder was clicked, its step picked from a list
    add_on_edge(page, "step_2")
    page.select_option("#id_steps-2-kind", "branch")
    page.select_option("#id_steps-2-outcome_is", "clicked")
    page.select_option('select.cue-key-pick[data-for="id_steps-2-outcome_step"]', "sms_1")
    expect(page.locator("#id_steps-2-outcome_step")).to_have_value("sms_1")

    # And on its "then" a follow-up text, on its "else" the end
    add_on_edge(page, "step_3", "then_step")
    page.select_option("#id_steps-3-kind", "send_sms")
    page.select_option("#id_steps-3-sms_template", str(replay.pk))
    add_on_edge(page, "step_3", "else_step")
    page.select_option("#id_steps-4-kind", "exit")

    # Then the diagram, redrawn before saving, shows the journey whole, with no problem
    expect(page.locator("#cue-diagram g.cue-step")).to_have_count(5)
    expect(page.locator('#cue-diagram g.cue-edge[data-from="step_3"]')).to_have_count(2)
    assert edges(page) == {
        ("sms_1", "step_2", "next"),
        ("step_2", "step_3", "next"),
        ("step_3", "step_4", "then"),
        ("step_3", "step_5", "else"),
    }
    expect(page.locator("#cue-live-summary")).to_have_text("The steps as they stand hold together.")
    # (the only text she typed is the journey's name and the wait's 2: keys and links were
    # filled by the page, from the kinds, the diagram and the pickers)

    # When she saves it and submits it for review
    page.click('input[name="_continue"]')
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    page.click("#cue-versions")
    page.fill("#cue-summary", "Webinar reminder with a follow-up for those who clicked")
    page.locator("#cue-submit").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cue-working-status")).to_contain_text("v1: Submitted for review")

    # And Alex approves and publishes it, which puts the journey live
    review = new_page()
    review_errors = console_errors(review)
    review.set_viewport_size({"width": 1366, "height": 768})
    login(review, live_server, alex)
    journey = Journey.objects.get(name=NAME)
    review.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/versions/")
    review.click("#cue-approve")
    expect(review.locator("#cue-working-status")).to_contain_text("v1: Approved")
    review.click("#cue-publish")
    # (a first publish starts the journey: no separate Activate)
    review.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")
    expect(review.locator("#cue-live-banner")).to_contain_text("This journey is live on v1")
    expect(review.locator("#cue-activate")).to_have_count(0)

    # Then the journey is live on v1, with exactly the steps and links Maria built
    journey.refresh_from_db()
    live = journey.live_version
    assert (journey.status, journey.trigger_event_type) == (
        JourneyStatus.ACTIVE,
        "webinar_registered",
    )
    assert (live.number, live.author, live.approver) == (1, maria, alex)
    sends = {"on_suppressed": "continue", "on_deferred": "wait"}
    assert {s.key: (s.kind, s.config) for s in live.steps.all()} == {
        "sms_1": ("send_sms", {"template": reminder.pk, "next": "step_2", **sends}),
        "step_2": ("wait", {"days": 2, "next": "step_3"}),
        "step_3": (
            "branch",
            {"condition": {"step_outcome": {"step": "sms_1", "is": "clicked"}},
             "then": "step_4", "else": "step_5"},
        ),
        "step_4": ("send_sms", {"template": replay.pk, **sends}),
        "step_5": ("exit", {}),
    }  # fmt: skip
    assert journey.first_step.key == "sms_1"
    assert (errors, review_errors) == ([], [])
