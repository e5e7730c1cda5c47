"""In a real browser: the diagram redraws from the builder's form as the author edits, before
Save (a kind, an edge, a template, a step deleted), with each problem live on its step; a
split's variants are rows added, edited and removed in the step's panel, and the server
refuses a split that does not add up to 100."""

import pytest

from apps.accounts import roles
from apps.journeys.models import JourneyStatus, JourneyVersion, Step
from tests.browser import login
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template
from tests.sends.templates import draft_sms_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def console_errors(page) -> list[str]:
    """What the page logs as an error, and every script error it throws. The browser's own
    request for /favicon.ico (no page asks for one) is not the page's error."""
    errors: list[str] = []

    def noted(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", noted)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def boxes(page) -> dict[str, str]:
    return dict(
        page.locator("#cue-diagram g.cue-step").evaluate_all(
            "gs => gs.map(g => [g.dataset.key, g.getAttribute('class')])"
        )
    )


def edges(page) -> set[tuple[str, str, str]]:
    found = page.locator("#cue-diagram g.cue-edge").evaluate_all(
        "gs => gs.map(g => [g.dataset.from, g.dataset.to, g.dataset.label])"
    )
    return {tuple(edge) for edge in found}


def problems(page, index: int):
    return page.locator(f"#steps-{index} ul.cue-live-problems li")


def test_the_diagram_and_problems_follow_the_form_before_save(live_server, page):
    from playwright.sync_api import expect

    # Given a draft journey: text → pause → ab (A 50 → thanks, B 50 → thanks) → thanks
    approved = sms_template(name="Reminder")
    unreviewed = draft_sms_version(name="Unreviewed").template
    journey = journey_build(
        steps=[
            ("text", "send_sms", {"template": approved.pk, "next": "pause"}),
            ("pause", "wait", {"hours": 1, "next": "ab"}),
            ("ab", "split", {"variants": [{"name": "A", "percent": 50, "next": "thanks"},
                                          {"name": "B", "percent": 50, "next": "thanks"}]}),
            ("thanks", "exit", {}),
        ],
        status=JourneyStatus.DRAFT,
    )  # fmt: skip
    saved = {s.key: s.config for s in Step.objects.filter(journey=journey)}
    errors = console_errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")
    expect(page.locator("#cue-live-summary")).to_have_text("The steps as they stand hold together.")

    # When the author points the wait at a step that does not exist
    page.fill("#id_steps-1-next_step", "nowhere")
    # Then the diagram redraws at once: a red "missing" box, the wait's box marked
    expect(page.locator('#cue-diagram g.cue-step-missing[data-key="nowhere"]')).to_have_count(1)
    assert ("pause", "nowhere", "next") in edges(page)
    expect(page.locator('#cue-diagram g.cue-step[data-key="pause"]')).to_have_class(
        "cue-step cue-step-wait cue-step-problem"
    )
    expect(problems(page, 1)).to_have_text(
        ["its \"next\" leads to 'nowhere', which is not a step of this journey."]
    )
    # And when she points it back, the missing box goes
    page.fill("#id_steps-1-next_step", "ab")
    expect(page.locator("#cue-diagram g.cue-step-missing")).to_have_count(0)
    expect(problems(page, 1)).to_have_count(0)

    # When she makes the last step a task instead of an exit
    page.select_option("#id_steps-3-kind", "create_task")
    expect(page.locator('#cue-diagram g.cue-step[data-key="thanks"]')).to_have_class(
        "cue-step cue-step-create_task"
    )

    # When she picks a template nobody approved
    page.select_option("#id_steps-0-sms_template", str(unreviewed.pk))
    text_box = page.locator('#cue-diagram g.cue-step[data-key="text"]')
    expect(text_box.locator("title")).to_have_text("text: Send SMS, Unreviewed")
    expect(text_box).to_have_class("cue-step cue-step-send_sms cue-step-problem")
    expect(problems(page, 0)).to_have_text(["Unreviewed has no approved version yet."])
    page.select_option("#id_steps-0-sms_template", str(approved.pk))
    expect(text_box.locator("title")).to_have_text("text: Send SMS, Reminder")
    expect(problems(page, 0)).to_have_count(0)

    # The split's variants are rows in its panel (opened from the diagram), not text
    page.locator('#cue-diagram g.cue-step[data-key="ab"]').click()
    rows = page.locator("#steps-2 tr.cue-variant")
    expect(rows).to_have_count(2)
    expect(page.locator("#id_steps-2-variants")).to_be_hidden()
    total = page.locator("#steps-2 .cue-variant-total")
    expect(total).to_have_text("Total: 100%")

    # When she gives B 40 %: the total, the step's problem and the diagram say so
    rows.nth(1).locator(".cue-variant-percent").fill("40")
    expect(total).to_have_text("Total: 90% (must be 100)")
    expect(problems(page, 2)).to_have_text(["the variants' percentages add up to 90, not 100."])
    expect(page.locator('#cue-diagram g.cue-step[data-key="ab"] title')).to_have_text(
        "ab: A/B split, A 50% · B 40%"
    )
    # When she adds a variant: it takes the rest, and she sends it back to the text
    page.locator("#steps-2 .cue-variant-add").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(2).locator(".cue-variant-name")).to_have_value("C")
    expect(rows.nth(2).locator(".cue-variant-percent")).to_have_value("10")
    expect(rows.nth(2).locator(".cue-variant-name")).to_be_focused()
    rows.nth(2).locator(".cue-variant-next").select_option("text")
    expect(total).to_have_text("Total: 100%")
    expect(problems(page, 2)).to_have_count(0)
    expect(page.locator('#cue-diagram g.cue-edge[data-from="ab"][data-label="C"]')).to_have_count(1)
    assert ("ab", "text", "C") in edges(page)
    # When she renames A and removes B, the total is off again
    rows.nth(0).locator(".cue-variant-name").fill("Early")
    rows.nth(1).locator(".cue-variant-remove").click()
    expect(rows).to_have_count(2)
    expect(total).to_have_text("Total: 60% (must be 100)")
    expect(page.locator('#cue-diagram g.cue-edge[data-from="ab"]')).to_have_count(2)
    assert {e for e in edges(page) if e[0] == "ab"} == {
        ("ab", "thanks", "Early"),
        ("ab", "text", "C"),
    }

    # When she saves anyway, the server refuses the split with a form error; nothing saved
    page.click('input[name="_continue"]')
    expect(page.locator("#steps-2 .field-variants ul.errorlist")).to_have_text(
        "The variants' percentages add up to 60, not 100."
    )
    assert {s.key: s.config for s in Step.objects.filter(journey=journey)} == saved
    assert JourneyVersion.objects.filter(journey=journey).count() == 1

    # When she makes it 100 and deletes the task from the diagram, then saves
    page.locator("#steps-2 tr.cue-variant").nth(1).locator(".cue-variant-percent").fill("50")
    page.locator("#steps-2 tr.cue-variant").nth(0).locator(".cue-variant-percent").fill("50")
    page.locator("#steps-2 tr.cue-variant").nth(0).locator(".cue-variant-next").select_option("")
    page.locator('#cue-diagram g.cue-step[data-key="thanks"]').focus()
    page.keyboard.press("Enter")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cue-delete-step")
    expect(page.locator('#cue-diagram g.cue-step[data-key="thanks"]')).to_have_count(0)
    page.click('input[name="_continue"]')
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")

    # Then the draft holds exactly what the diagram showed
    shown = journey.version_shown()
    assert {s.key: s.config for s in shown.steps.all()} == {
        "text": {"template": approved.pk, "next": "pause", "on_suppressed": "continue",
                 "on_deferred": "wait"},
        "pause": {"hours": 1, "next": "ab"},
        "ab": {"variants": [{"name": "Early", "percent": 50},
                            {"name": "C", "percent": 50, "next": "text"}]},
    }  # fmt: skip
    assert edges(page) == {("text", "pause", "next"), ("pause", "ab", "next"), ("ab", "text", "C")}
    assert errors == [], errors
