"""In a real browser: a marketer writes an SMS, fixes its encoding and submits it; an
approver approves it; compliance finds the approval in the version history."""

import json

import pytest

from apps.accounts import roles
from apps.library.encoding import sms_analyze
from apps.library.models import TemplateApproval, TemplateVersion
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINKS = {"join": {"url": "https://example.com/webinar/join", "key": False}}
OPENING = "Cue Demo: it’s almost time"
REST = (
    ' {{ contact.first_name | "friend" }}, the webinar starts in 1 hour. '
    "Join: {link:join} Reply STOP to opt out."
)


def test_it_takes_an_sms_template_from_draft_to_approved(live_server, new_page, make_user):
    from playwright.sync_api import expect

    marketer = make_user(roles.MARKETER, username="maria", email="maria@example.com")
    approver = make_user(roles.APPROVER, username="alex", email="alex@example.com")
    compliance = make_user(roles.COMPLIANCE, username="carol", email="carol@example.com")

    # Given Maria writes a marketing SMS with a smart quote
    page = new_page()
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/admin/library/messagetemplate/add/")
    page.fill("#id_name", "Webinar reminder")
    page.select_option("#id_purpose", "remind")
    page.select_option("#id_category", "marketing")
    page.fill("#id_links", json.dumps(LINKS))
    body = page.locator("#id_body")
    body.press_sequentially(OPENING)

    # Then the meter shows UCS-2 as she types, and the count follows her
    encoding = page.locator(".cue-sms-meter .cue-encoding")
    characters = page.locator(".cue-sms-meter .cue-characters")
    expect(encoding).to_have_text("UCS-2")
    expect(characters).to_have_text(f"{len(OPENING)} characters")
    expect(page.locator(".cue-sms-meter .cue-non-gsm mark")).to_have_text(["’"])
    body.press_sequentially(REST)
    typed = OPENING + REST
    expect(characters).to_have_text(f"{sms_analyze(typed).characters} characters")
    expect(page.locator(".cue-sms-meter .cue-segments")).to_have_text("2 segments")

    # When she swaps the smart quote for its GSM equivalent
    replace = page.locator(".cue-sms-meter .cue-replace")
    expect(replace).to_be_visible()
    replace.click()

    # Then the message is GSM-7 again, in one segment, and the offer goes away
    expect(encoding).to_have_text("GSM-7")
    expect(page.locator(".cue-sms-meter .cue-segments")).to_have_text("1 segment")
    expect(body).to_have_value(typed.replace("’", "'"))
    expect(replace).to_be_hidden()
    expect(page.locator(".cue-sms-meter .cue-worst-case")).to_contain_text("At its longest")

    # When she saves and submits it
    page.click("input[name=_continue]")
    page.click("#cue-submit")
    expect(page.locator(".messagelist")).to_contain_text("Version 1 is submitted for review.")
    version = TemplateVersion.objects.get()
    assert (version.status, version.body, version.author) == (
        "submitted", typed.replace("’", "'"), marketer,
    )  # fmt: skip
    change_url = f"{live_server.url}/admin/library/messagetemplate/{version.template_id}/change/"

    # And Alex approves it
    review = new_page()
    login(review, live_server, approver)
    review.goto(change_url)
    review.click("#cue-approve")
    expect(review.locator(".messagelist")).to_contain_text(
        "Version 1 is approved: it is what this template sends now."
    )

    # Then Carol finds the approval in the version history, read-only
    audit = new_page()
    login(audit, live_server, compliance)
    audit.goto(change_url)
    expect(audit.locator("input[name=_save]")).to_have_count(0)
    audit.click("#cue-versions")
    row = audit.locator("#version-1")
    expect(row).to_contain_text("Approved")
    expect(row.locator(".cue-approval")).to_contain_text(
        f"Approved by {approver.username} as approver"
    )
    assert list(TemplateApproval.objects.values_list("reviewer", "decision")) == [
        (approver.pk, "approved")
    ]
