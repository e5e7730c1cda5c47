"""In a real browser: the template editor counts characters and units apart, shows the
compliance lint while the marketer types (not only at Submit), ignores an answer that
arrives after a newer one, and offers Approve to no version's author."""

import pytest

from apps.accounts import roles
from apps.library.models import MessageTemplate, TemplateApproval, TemplateVersion
from apps.library.services import template_create, version_submit
from tests.browser import login
from tests.library.conftest import BODY, LINKS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW = "**/api/v1/templates/preview/"
BRAND_MISSING = 'Say who is texting: a marketing SMS must name "Cue Demo".'
OPT_OUT_MISSING = 'Tell the recipient how to opt out, e.g. "Reply STOP to opt out".'
CLEAN_STATUS = "Nothing to fix: Submit's compliance lint passes."
GSM_UNITS_HELP = (
    "GSM-7 units are septets: a segment holds 160, or 153 once the message is split. "
    "€ [ ] { } ~ ^ \\ | each cost 2 units."
)


def open_new_template(page, live_server, user):
    login(page, live_server, user)
    page.goto(f"{live_server.url}/admin/library/messagetemplate/add/")
    page.fill("#id_name", "Webinar reminder")
    page.select_option("#id_purpose", "remind")
    page.select_option("#id_category", "marketing")


def test_it_counts_characters_and_gsm_units_apart(live_server, page, make_user):
    from playwright.sync_api import expect

    open_new_template(page, live_server, make_user(roles.MARKETER, username="maria"))
    meter = page.locator(".cue-sms-meter")

    # When Maria types a price in euros (€ is in GSM-7's extension table: 2 units)
    page.locator("#id_body").press_sequentially("Only 5€ [today]")

    # Then the characters are what she typed and the units what the segment counts
    expect(meter.locator(".cue-encoding")).to_have_text("GSM-7")
    expect(meter.locator(".cue-characters")).to_have_text("15 characters")
    expect(meter.locator(".cue-units")).to_have_text("18 GSM-7 units")
    expect(meter.locator(".cue-remaining")).to_have_text("142 units left in this segment")
    expect(meter.locator(".cue-units")).to_have_attribute("title", GSM_UNITS_HELP)

    # When 80 euros fill the segment exactly, and one more starts a second
    page.fill("#id_body", "€" * 80)
    expect(meter.locator(".cue-characters")).to_have_text("80 characters")
    expect(meter.locator(".cue-units")).to_have_text("160 GSM-7 units")
    expect(meter.locator(".cue-segments")).to_have_text("1 segment")
    page.fill("#id_body", "€" * 81)
    expect(meter.locator(".cue-segments")).to_have_text("2 segments")
    expect(meter.locator(".cue-units")).to_have_text("162 GSM-7 units")
    # (76 euros fill the first 153 units: an escape pair is never split, so 5 move on)
    expect(meter.locator(".cue-remaining")).to_have_text("143 units left in this segment")

    # And an emoji is one character but two UCS-2 units
    page.fill("#id_body", "Hi 👋")
    expect(meter.locator(".cue-encoding")).to_have_text("UCS-2")
    expect(meter.locator(".cue-characters")).to_have_text("4 characters")
    expect(meter.locator(".cue-units")).to_have_text("5 UCS-2 units")
    expect(meter.locator(".cue-worst-case")).to_have_text(
        "At its longest (every placeholder at full length, links as sent): "
        "1 segment, UCS-2, 4 characters (5 UCS-2 units)."
    )


def test_it_shows_the_brand_and_opt_out_lint_while_typing(live_server, page, make_user):
    from playwright.sync_api import expect

    open_new_template(page, live_server, make_user(roles.MARKETER, username="maria"))
    lint = page.locator(".cue-lint")
    findings = lint.locator(".cue-lint-findings li")
    body = page.locator("#id_body")

    # When Maria types a reminder that names nobody and gives no way out
    body.press_sequentially("Your webinar starts in 1 hour.")

    # Then, before any Submit, the lint says what Submit would refuse
    expect(findings).to_have_text([BRAND_MISSING, OPT_OUT_MISSING])
    expect(lint.locator(".cue-lint-status")).to_have_text("2 problems Submit would refuse.")
    expect(findings.first).to_have_attribute("data-rule", "brand_missing")
    expect(findings.first).to_have_class("cue-error")

    # When she names the brand, only the opt-out is left
    body.press("Home")
    body.press_sequentially("Cue Demo: ")
    expect(findings).to_have_text([OPT_OUT_MISSING])
    expect(lint.locator(".cue-lint-status")).to_have_text("1 problem Submit would refuse.")

    # When she adds the opt-out, nothing is left
    body.press("End")
    body.press_sequentially(" Reply STOP to opt out.")
    expect(lint.locator(".cue-lint-status")).to_have_text(CLEAN_STATUS)
    expect(findings).to_have_count(0)

    # When she makes it transactional, the lint follows the category
    body.fill("Cue Demo: 20% off your next webinar! Reply STOP to opt out.")
    page.select_option("#id_category", "transactional")
    expect(findings).to_have_count(1)
    expect(findings.first).to_have_attribute("data-rule", "promotional")

    # And a broken placeholder is reported once, in the lint, before the rest
    body.fill("Hi {{ contact.nickname }}")
    expect(findings).to_have_count(1)
    expect(findings.first).to_have_attribute("data-rule", "placeholders")
    expect(page.locator(".cue-sms-meter .cue-errors")).to_be_hidden()

    # Nothing was saved or submitted by checking
    assert (MessageTemplate.objects.count(), TemplateVersion.objects.count()) == (0, 0)


def test_it_ignores_an_answer_that_comes_after_a_newer_one(live_server, page, make_user):
    from playwright.sync_api import expect

    open_new_template(page, live_server, make_user(roles.MARKETER, username="maria"))
    lint = page.locator(".cue-lint")
    expect(lint).to_have_attribute("aria-busy", "false")  # the empty body's answer is in
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(PREVIEW, hold_the_first)

    # Given the answer about an unbranded text is slow
    with page.expect_request(PREVIEW):
        page.fill("#id_body", "Your webinar starts in 1 hour.")
    # When she finishes the text and its answer comes first
    page.fill("#id_body", "Cue Demo: your webinar starts in 1 hour. Reply STOP to opt out.")
    expect(lint.locator(".cue-lint-status")).to_have_text(CLEAN_STATUS)

    # Then the late answer about the old text changes nothing
    held[0].continue_()
    expect(lint).to_have_attribute("data-stale-answers", "1")
    expect(lint.locator(".cue-lint-status")).to_have_text(CLEAN_STATUS)
    expect(lint.locator(".cue-lint-findings li")).to_have_count(0)


def test_it_offers_approve_to_the_reviewer_and_not_to_the_author(live_server, new_page, make_user):
    from playwright.sync_api import expect

    author = make_user(roles.ADMIN, username="root")
    approver = make_user(roles.APPROVER, username="alex")
    template = template_create(
        actor=author, name="Own", channel="sms", purpose="remind", category="marketing",
        body=BODY, links=LINKS,
    )  # fmt: skip
    version_submit(actor=author, version=template.versions.get(), notify=False)
    url = f"{live_server.url}/admin/library/messagetemplate/{template.pk}/change/"

    # The author sees why, and no button to press
    mine = new_page()
    login(mine, live_server, author)
    expect(mine.locator("#cue-reviews-waiting")).to_contain_text(
        "No template version waits for you."
    )
    mine.goto(url)
    expect(mine.locator("#cue-review-note")).to_have_text(
        "You wrote this version, so someone else must approve it."
    )
    expect(mine.locator("#cue-approve")).to_have_count(0)
    expect(mine.locator("#cue-review-approve")).to_have_count(0)

    # The approver finds it from the dashboard and approves it
    theirs = new_page()
    login(theirs, live_server, approver)
    theirs.get_by_role("link", name="1 template version waits for you").click()
    theirs.get_by_role("link", name="Own", exact=True).click()
    theirs.click("#cue-approve")
    expect(theirs.locator(".messagelist")).to_contain_text("Version 1 is approved")
    assert list(TemplateApproval.objects.values_list("reviewer__username", flat=True)) == ["alex"]
