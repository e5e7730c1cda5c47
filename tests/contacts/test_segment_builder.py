"""The visual segment builder, in Chromium: a segment built by clicking counts the same
contacts as its rules run through the API and the selector, and is saved as those rules."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.contacts.models import Segment
from apps.contacts.segments import segment_contacts
from tests.browser import ARTIFACTS, login
from tests.factories import ContactFactory, EventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "all": [
        {"field": "lifecycle_stage", "op": "at_or_after", "value": "mql"},
        {
            "any": [
                {"field": "intent_band", "op": "eq", "value": "high"},
                {"event": "pricing_view", "within_days": 14},
            ]
        },
    ]
}


@pytest.fixture
def people():
    """Two contacts the segment holds, two it does not (too early a stage, no intent)."""
    ContactFactory(first_name="Sally", last_name="Sql", lifecycle_stage="sql", intent_band="high")
    mona = ContactFactory(
        first_name="Mona", last_name="Mql", lifecycle_stage="mql", intent_band="low"
    )
    EventFactory(contact=mona, type="pricing_view", occurred_at=timezone.now() - timedelta(days=3))
    ContactFactory(first_name="Lee", last_name="Lead", lifecycle_stage="lead", intent_band="high")
    ContactFactory(
        first_name="Cus", last_name="Tomer", lifecycle_stage="customer", intent_band="low"
    )


def test_a_segment_built_by_clicking_counts_as_the_api_and_the_selector(
    live_server, make_user, page, people
):
    from playwright.sync_api import expect

    marketer = make_user(roles.MARKETER, username="marketer")
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/admin/contacts/segment/add/")
    page.fill("#id_name", "Hot MQLs")
    status = page.locator("#segment-preview .segment-preview-status")
    expect(page.get_by_label("All rules: match")).to_be_visible()
    expect(page.locator("#id_rules")).to_be_hidden()  # folded away: the builder writes it

    page.get_by_role("button", name="All rules: add a rule").click()
    page.get_by_label("Rule 1: operator").select_option(label="is at or after")
    page.get_by_label("Rule 1: value").select_option(label="Marketing qualified lead")
    page.get_by_role("button", name="All rules: add a group").click()
    expect(page.get_by_label("Group 2: match")).to_have_value("any")
    page.get_by_role("button", name="Group 2: add a rule").click()
    page.get_by_label("Rule 2: what").select_option(label="Intent band")
    page.get_by_label("Rule 2: value").select_option(label="High")
    page.get_by_role("button", name="Group 2: add a rule").click()
    page.get_by_label("Rule 3: what").select_option(label="Did (or did not do) an event")
    page.get_by_label("Rule 3: event type").fill("pricing_view")
    page.get_by_label("Rule 3: within the last how many days (empty: ever)").fill("14")

    expect(status).to_have_text("2 contacts match.")
    expect(page.locator("#segment-preview tbody tr")).to_have_count(2)
    expect(page.locator("#segment-preview tbody")).to_contain_text("Sally Sql")
    expect(page.locator("#segment-preview tbody")).to_contain_text("Mona Mql")
    built = json.loads(page.locator("#id_rules").input_value())
    assert built == EXPECTED
    api = APIClient()
    api.force_authenticate(marketer)
    counted = api.post("/api/v1/segments/preview/", {"rules": built}, format="json").json()
    assert counted["count"] == segment_contacts(rules=built).count() == 2
    _screenshot(page)

    page.get_by_role("button", name="Save", exact=True).click()
    segment = Segment.objects.get(name="Hot MQLs")
    assert segment.rules == EXPECTED
    assert api.get(f"/api/v1/segments/{segment.pk}/count/").json() == {"count": 2}


def test_the_builder_shows_saved_rules_and_follows_edits_to_the_json(live_server, make_user, page):
    from playwright.sync_api import expect

    ContactFactory(first_name="Hot", last_name="Lead", intent_band="high")
    ContactFactory(first_name="Cold", last_name="Lead", intent_band="low")
    rules = {"any": [{"field": "intent_band", "op": "in", "value": ["high", "low"]}]}
    segment = Segment.objects.create(name="Both", rules=rules)
    login(page, live_server, make_user(roles.MARKETER))
    page.goto(f"{live_server.url}/admin/contacts/segment/{segment.pk}/change/")
    status = page.locator("#segment-preview .segment-preview-status")

    expect(page.get_by_label("All rules: match")).to_have_value("any")
    expect(page.get_by_label("Rule 1: what")).to_have_value("field:intent_band")
    expect(page.get_by_label("Rule 1: operator")).to_have_value("in")
    expect(page.get_by_role("checkbox", name="High")).to_be_checked()
    expect(status).to_have_text("2 contacts match.")

    page.get_by_role("checkbox", name="Low").uncheck()
    expect(status).to_have_text("1 contact matches.")

    # A rule the builder has no controls for stays as it is, as a JSON rule.
    page.get_by_text("Rules as JSON").click()
    page.fill(
        "#id_rules",
        json.dumps({"all": [{"not": {"field": "intent_band", "op": "eq", "value": "high"}}]}),
    )
    expect(page.get_by_label("Rule 1: rule as JSON")).to_have_value(
        '{"not":{"field":"intent_band","op":"eq","value":"high"}}'
    )
    expect(status).to_have_text("1 contact matches.")
    expect(page.locator("#segment-preview tbody")).to_contain_text("Cold Lead")


def test_an_event_rule_matches_a_property_and_a_count(live_server, make_user, page):
    from playwright.sync_api import expect

    pro, free = ContactFactory(first_name="Pro"), ContactFactory(first_name="Free")
    for _ in range(2):
        EventFactory(contact=pro, type="pricing_view", properties={"plan": "pro"})
        EventFactory(contact=free, type="pricing_view", properties={"plan": "free"})
    EventFactory(contact=free, type="pricing_view", properties={"plan": "pro"})
    login(page, live_server, make_user(roles.MARKETER))
    page.goto(f"{live_server.url}/admin/contacts/segment/add/")
    status = page.locator("#segment-preview .segment-preview-status")

    page.get_by_role("button", name="All rules: add a rule").click()
    page.get_by_label("Rule 1: what").select_option(label="Did (or did not do) an event")
    page.get_by_label("Rule 1: event type").fill("pricing_view")
    page.get_by_label("Rule 1: with the property (optional)").fill("plan")
    page.get_by_label("Rule 1: property value").fill("pro")
    expect(status).to_have_text("2 contacts match.")
    page.get_by_label("Rule 1: at least how many times").fill("2")
    expect(status).to_have_text("1 contact matches.")
    expect(page.locator("#segment-preview tbody")).to_contain_text("Pro")

    rules = json.loads(page.locator("#id_rules").input_value())
    assert rules == {
        "all": [{"event": "pricing_view", "min_count": 2, "properties": {"plan": "pro"}}]
    }
    assert list(segment_contacts(rules=rules)) == [pro]
    page.get_by_label("Rule 1: did or did not").select_option(label="did not do")
    expect(status).to_have_text("1 contact matches.")
    expect(page.locator("#segment-preview tbody")).to_contain_text("Free")


def test_the_builder_works_from_the_keyboard(live_server, make_user, page):
    from playwright.sync_api import expect

    login(page, live_server, make_user(roles.MARKETER))
    page.goto(f"{live_server.url}/admin/contacts/segment/add/")
    page.get_by_role("button", name="All rules: add a rule").focus()

    page.keyboard.press("Enter")
    expect(page.get_by_label("Rule 1: what")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Rule 1: operator")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Rule 1: value")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Remove rule 1")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="All rules: add a rule")).to_be_focused()
    assert json.loads(page.locator("#id_rules").input_value()) == {"all": []}


def _screenshot(page) -> None:
    """The builder as a marketer sees it, for the README's tour (docs/screenshots/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "segment-builder.png"
    page.locator("#segment-builder").scroll_into_view_if_needed()
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
