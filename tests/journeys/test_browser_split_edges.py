"""In a real browser, at 1366×768: a split's variants are edges of the diagram like the
others. A marketer connects a variant to a step by clicking (the step, "Connect to…", the
target box), disconnects one by clicking its edge in the diagram, and connects another from
the keyboard alone; the rows follow, the diagram redraws, no label is cut, and the saved
version holds exactly those links."""

import pytest

from apps.accounts import roles
from apps.journeys.models import JourneyStatus
from tests.browser import login
from tests.factories import UserFactory
from tests.journeys.builders import journey_build
from tests.journeys.test_browser_redraw import console_errors, edges

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TASK = {"reason": "Call them."}


def _journey():
    return journey_build(
        steps=[
            ("pause", "wait", {"hours": 1, "next": "ab"}),
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 50, "next": "offer_a"},
                        {"name": "Longer_variant_name_B", "percent": 50},
                    ]
                },
            ),
            ("offer_a", "create_task", TASK),
            ("offer_b", "create_task", TASK),
            ("done", "exit", {}),
        ],
        status=JourneyStatus.DRAFT,
    )


def box(page, key: str):
    return page.locator(f'#cue-diagram g.cue-step[data-key="{key}"]')


def focus_box(page, key: str) -> None:
    """Focus a box as drawn now (a redraw replaces the boxes, keeping a focused one)."""
    for _ in range(20):
        box(page, key).focus()
        if box(page, key).evaluate("b => document.activeElement === b"):
            return
        page.wait_for_timeout(100)


def labels_cut(page) -> list[str]:
    """Edge labels and step keys drawn outside the diagram's picture or its scroll box."""
    return page.locator("#cue-diagram svg text").evaluate_all(
        """texts => texts.filter(t => {
            const svg = t.ownerSVGElement.viewBox.baseVal, b = t.getBBox();
            return b.x < 0 || b.y < 0 || b.x + b.width > svg.width || b.y + b.height > svg.height;
        }).map(t => t.textContent)"""
    )


def test_a_variants_edge_is_connected_and_disconnected_in_the_diagram(live_server, page):
    from playwright.sync_api import expect

    journey = _journey()
    errors = console_errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, UserFactory(role=roles.MARKETER))
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")
    variants = page.locator("#id_steps-1-variants")

    # When the marketer opens the split, its variants are offered as its edges
    box(page, "ab").click()
    expect(page.locator("#cue-edge-choice option")).to_have_text(
        ["variant A → offer_a", "variant Longer_variant_name_B → the end"]
    )
    # And she connects variant B by clicking: the edge, "Connect to…", then offer_b's box
    page.select_option("#cue-edge-choice", "variant-1")
    page.click("#cue-connect")
    box(page, "offer_b").click()

    # Then the variant's row and the variants field lead there, and the diagram draws it
    expect(page.locator("#steps-1 .cue-variant-next").nth(1)).to_have_value("offer_b")
    expect(variants).to_have_value("A, 50, offer_a\nLonger_variant_name_B, 50, offer_b")
    expect(page.locator('#cue-diagram g.cue-edge[data-to="offer_b"]')).to_have_count(1)
    assert edges(page) == {
        ("pause", "ab", "next"),
        ("ab", "offer_a", "A"),
        ("ab", "offer_b", "Longer_variant_name_B"),
    }
    expect(page.locator("#cue-edge-choice option")).to_have_text(
        ["variant A → offer_a", "variant Longer_variant_name_B → offer_b"]
    )
    assert labels_cut(page) == []

    # When she clicks variant A's edge in the diagram and disconnects it
    page.locator('#cue-diagram g.cue-edge[data-label="A"] text').click()
    expect(page.locator("#cue-edge-choice")).to_have_value("variant-0")
    page.click("#cue-disconnect")
    # Then variant A ends the journey, and its edge is gone from the diagram
    expect(variants).to_have_value("A, 50\nLonger_variant_name_B, 50, offer_b")
    expect(page.locator('#cue-diagram g.cue-edge[data-label="A"]')).to_have_count(0)

    # When she connects variant A to "done" from the keyboard alone
    page.locator("#cue-edge-choice").focus()
    page.keyboard.press("Home")  # the first edge: variant A
    expect(page.locator("#cue-edge-choice")).to_have_value("variant-0")
    page.locator("#cue-connect").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cue-diagram-detail")).to_contain_text("Click the step ab should lead to")
    focus_box(page, "done")
    page.keyboard.press("Enter")
    expect(variants).to_have_value("A, 50, done\nLonger_variant_name_B, 50, offer_b")
    expect(page.locator('#cue-diagram g.cue-edge[data-label="A"]')).to_have_attribute(
        "data-to", "done"
    )
    expect(page.locator("#cue-live-summary")).to_have_text("The steps as they stand hold together.")
    assert labels_cut(page) == []

    # And saves
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")

    # Then the saved version holds exactly those steps and links
    shown = journey.version_shown()
    assert {s.key: (s.kind, s.config) for s in shown.steps.all()} == {
        "pause": ("wait", {"hours": 1, "next": "ab"}),
        "ab": (
            "split",
            {
                "variants": [
                    {"name": "A", "percent": 50, "next": "done"},
                    {"name": "Longer_variant_name_B", "percent": 50, "next": "offer_b"},
                ]
            },
        ),
        "offer_a": ("create_task", TASK),
        "offer_b": ("create_task", TASK),
        "done": ("exit", {}),
    }
    assert shown.first_step.key == "pause"
    assert errors == []
