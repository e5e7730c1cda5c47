"""In a real browser: the builder shows a step's problems on that step as the author edits,
before anything is submitted — an edge to no step, a loop without a wait, a template with no
approved version, a split whose percentages do not add up to 100 — and clears each once
fixed. Nothing is saved by checking."""

import re

import pytest

from apps.accounts import roles
from apps.journeys.models import JourneyStatus, Step
from tests.browser import login
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template
from tests.sends.templates import draft_sms_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def problems(page, index: int):
    return page.locator(f"#steps-{index} ul.cue-live-problems li")


def test_it_shows_each_problem_on_its_step_live(live_server, page):
    from playwright.sync_api import expect

    # Given a draft journey that holds together: text → pause, and a 50/50 split
    approved = sms_template(name="Reminder")
    draft = draft_sms_version(name="Unreviewed").template
    journey = journey_build(
        steps=[
            ("text", "send_sms", {"template": approved.pk, "next": "pause"}),
            ("pause", "wait", {"hours": 1, "next": "ab"}),
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 50, "next": "text"},
                        {"name": "B", "percent": 50},
                    ]
                },
            ),
            ("ping", "create_task", {"reason": "Call them."}),
            ("pong", "create_task", {"reason": "Call them again."}),
        ],
        status=JourneyStatus.DRAFT,
    )
    configs = {s.key: s.config for s in Step.objects.filter(journey=journey)}
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")
    expect(page.locator("#cue-live-summary")).to_have_text("The steps as they stand hold together.")

    # When the author points the text at a step that does not exist
    page.fill("#id_steps-0-next_step", "nowhere")
    # Then the text step says so, and its box in the diagram is marked
    expect(problems(page, 0)).to_have_text(
        ["its \"next\" leads to 'nowhere', which is not a step of this journey."]
    )
    expect(page.locator('#cue-diagram g.cue-step[data-key="text"]')).to_have_class(
        "cue-step cue-step-send_sms cue-step-problem"
    )
    expect(problems(page, 1)).to_have_count(0)

    # The approved template's text shows under its picker
    preview = page.locator("#steps-0 pre.cue-template-preview:not([hidden])")
    expect(preview).to_have_text(approved.current_version.body)
    # When she picks a template nobody approved yet
    page.select_option("#id_steps-0-sms_template", str(draft.pk))
    expect(preview).to_have_count(0)
    expect(problems(page, 0)).to_have_text(
        [
            "its \"next\" leads to 'nowhere', which is not a step of this journey.",
            "Unreviewed has no approved version yet.",
        ]
    )

    # When the split's percentages no longer add up
    variant_a = page.locator("#steps-2 tr.cue-variant").nth(0).locator(".cue-variant-percent")
    variant_a.fill("60")
    expect(problems(page, 2)).to_have_text(["the variants' percentages add up to 110, not 100."])

    # When two tasks point at each other with no wait between them
    page.fill("#id_steps-3-next_step", "pong")
    page.fill("#id_steps-4-next_step", "ping")
    loop = "Steps ping → pong → ping loop without a wait."
    expect(problems(page, 3)).to_have_text([loop])
    expect(problems(page, 4)).to_have_text([loop])
    expect(page.locator("#cue-live-summary")).to_have_text(
        "5 problems in the steps as they stand (shown on each step)."
    )

    # When she fixes each one, each goes away
    page.fill("#id_steps-0-next_step", "pause")
    page.select_option("#id_steps-0-sms_template", str(approved.pk))
    variant_a.fill("50")
    page.fill("#id_steps-4-next_step", "")
    for index in range(5):
        expect(problems(page, index)).to_have_count(0)
    expect(page.locator("#cue-live-summary")).to_have_text("The steps as they stand hold together.")
    # And nothing was saved by checking
    assert {s.key: s.config for s in Step.objects.filter(journey=journey)} == configs


def test_the_diagram_opens_a_steps_settings_by_click_or_keyboard(live_server, page):
    from playwright.sync_api import expect

    journey = journey_build(
        steps=[
            ("wait_for_the_webinar_to_start", "wait", {"hours": 1, "next": "thanks"}),
            ("thanks", "exit", {}),
        ],
        status=JourneyStatus.DRAFT,
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")

    # The long key is clipped in its box, but shown whole on focus and hover
    box = page.locator('#cue-diagram g.cue-step[data-key="wait_for_the_webinar_to_start"]')
    expect(box.locator("title")).to_have_text("wait_for_the_webinar_to_start: Wait, waits 1 h")
    box.focus()
    expect(page.locator("#cue-diagram-detail")).to_have_text(
        "wait_for_the_webinar_to_start: Wait, waits 1 h"
    )
    # Enter opens its settings; a click on another box opens that one's
    page.keyboard.press("Enter")
    expect(page.locator("#steps-0")).to_have_class(re.compile(r"\bcue-step-open\b"))
    expect(page.locator("#id_steps-0-key")).to_be_focused()
    page.locator('#cue-diagram g.cue-step[data-key="thanks"]').click()
    expect(page.locator("#steps-1")).to_have_class(re.compile(r"\bcue-step-open\b"))
    expect(page.locator("#steps-0")).not_to_have_class(re.compile(r"\bcue-step-open\b"))


def test_the_diagram_adds_a_step_after_a_step_and_deletes_one_on_confirmation(live_server, page):
    from playwright.sync_api import expect

    # Given a draft: a text, then the end of the journey
    template = sms_template(name="Reminder")
    journey = journey_build(
        steps=[
            ("text", "send_sms", {"template": template.pk, "next": "done"}),
            ("done", "exit", {}),
            ("old", "create_task", {"reason": "Nobody gets here."}),
        ],
        status=JourneyStatus.DRAFT,
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")

    # When the marketer opens the text from the diagram and adds a step after it
    page.locator('#cue-diagram g.cue-step[data-key="text"]').click()
    page.click("#cue-add-after")
    # Then a new step sits between the text and what followed it, its kind to choose
    expect(page.locator("#id_steps-3-key")).to_have_value("step_4")
    expect(page.locator("#id_steps-3-next_step")).to_have_value("done")
    expect(page.locator("#id_steps-0-next_step")).to_have_value("step_4")
    expect(page.locator("#id_steps-3-kind")).to_be_focused()
    page.select_option("#id_steps-3-kind", "wait")
    page.fill("#id_steps-3-wait_amount", "2")

    # When she deletes the unused step from the diagram, confirming
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('#cue-diagram g.cue-step[data-key="old"]').click()
    page.click("#cue-delete-step")
    expect(page.locator("#id_steps-2-DELETE")).to_be_checked()

    # And saves: the graph is text → step_4 (waits 2 h) → done, and "old" is gone
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    steps = {s.key: (s.kind, s.config) for s in Step.objects.filter(journey=journey)}
    assert steps == {
        "text": (
            "send_sms",
            {"template": template.pk, "next": "step_4", "on_suppressed": "continue",
             "on_deferred": "wait"},
        ),
        "step_4": ("wait", {"hours": 2, "next": "done"}),
        "done": ("exit", {}),
    }  # fmt: skip


def test_a_delete_not_confirmed_deletes_nothing(live_server, page):
    from playwright.sync_api import expect

    journey = journey_build(
        steps=[("done", "exit", {}), ("old", "exit", {})], status=JourneyStatus.DRAFT
    )
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator('#cue-diagram g.cue-step[data-key="old"]').focus()
    page.keyboard.press("Enter")
    page.click("#cue-delete-step")
    expect(page.locator("#id_steps-1-DELETE")).not_to_be_checked()


def test_the_diagram_connects_and_disconnects_a_branchs_edges_by_clicking(live_server, page):
    from playwright.sync_api import expect

    leads = {"all": [{"field": "lifecycle_stage", "op": "eq", "value": "lead"}]}
    journey = journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": leads}, "then": "yes"}),
            ("yes", "exit", {}),
            ("no", "exit", {}),
        ],
        status=JourneyStatus.DRAFT,
    )
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")

    # When the marketer opens the branch, picks its "else" edge and clicks "no"
    page.locator('#cue-diagram g.cue-step[data-key="check"]').click()
    expect(page.locator("#cue-edge-choice option")).to_have_text(["then → yes", "else → the end"])
    page.select_option("#cue-edge-choice", "else_step")
    page.click("#cue-connect")
    page.locator('#cue-diagram g.cue-step[data-key="no"]').click()
    expect(page.locator("#id_steps-0-else_step")).to_have_value("no")
    # And disconnects "then", then adds a step on "else" (between the branch and "no")
    page.select_option("#cue-edge-choice", "then_step")
    page.click("#cue-disconnect")
    expect(page.locator("#id_steps-0-then_step")).to_have_value("")
    page.select_option("#cue-edge-choice", "else_step")
    page.click("#cue-add-after")
    expect(page.locator("#id_steps-0-else_step")).to_have_value("step_4")
    expect(page.locator("#id_steps-3-next_step")).to_have_value("no")
    expect(page.locator("#cue-edge-choice option")).to_have_text(
        ["then → the end", "else → step_4"]
    )
    page.select_option("#id_steps-3-kind", "create_task")
    page.fill("#id_steps-3-task_reason", "Not a lead: call them.")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    steps = {s.key: s.config for s in Step.objects.filter(journey=journey)}
    assert steps["check"] == {"condition": {"rules": leads}, "else": "step_4"}
    assert steps["step_4"]["next"] == "no"
