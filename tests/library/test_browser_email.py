"""In a real browser: a marketer composes an HTML email, sees the lint refuse it while the
postal address and the unsubscribe link are missing, fixes it while the preview follows
her at desktop and phone width, and submits; an approver approves; what is stored is the
sanitised HTML (the <script> she typed is gone)."""

import json

import pytest

from apps.accounts import roles
from apps.library.models import TemplateVersion
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADDRESS = "Cue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701"
LINKS = {"recording": {"url": "https://example.com/recording", "key": False}}
FIRST_DRAFT = (
    "<style>.lead { color: #1f4e79; }</style>"
    '<p class="lead">Hi {{ contact.first_name | "there" }}, the recording is ready.</p>'
    '<p><a href="{link:recording}">Watch it</a></p><script>alert("hi")</script>'
    "<p>The Cue Demo team</p>"
)
FOOTER = f'<p>{ADDRESS}<br><a href="{{link:unsubscribe}}">Unsubscribe</a></p>'
STORED = (
    "<style>.lead { color: #1f4e79; }</style>"
    '<p class="lead">Hi {{ contact.first_name | "there" }}, the recording is ready.</p>'
    '<p><a href="{link:recording}">Watch it</a></p>'
    f"<p>The Cue Demo team</p>{FOOTER}"
)
REFUSAL = (
    f'The HTML part must show the postal address: "{ADDRESS}". '
    "The HTML part needs the unsubscribe link: {link:unsubscribe}. "
    f'The text part must show the postal address: "{ADDRESS}". '
    "The text part needs the unsubscribe link: {link:unsubscribe}."
)


def test_a_marketer_composes_an_html_email_and_an_approver_approves_it(
    live_server, new_page, make_user
):
    from playwright.sync_api import expect

    marketer = make_user(roles.MARKETER, username="maria", email="maria@example.com")
    approver = make_user(roles.APPROVER, username="alex", email="alex@example.com")

    # Given Maria composes a marketing email with no address and no unsubscribe link
    page = new_page()
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/admin/library/messagetemplate/add/")
    page.fill("#id_name", "Webinar recording")
    page.select_option("#id_channel", "email")
    page.select_option("#id_purpose", "progress")
    page.select_option("#id_category", "marketing")
    page.fill("#id_subject", "Your recording")
    page.fill("#id_links", json.dumps(LINKS))
    page.locator("#id_links").dispatch_event("change")
    page.fill("#id_html", FIRST_DRAFT)

    # Then the live lint names what is missing, in both parts
    findings = page.locator(".cue-lint .cue-lint-findings li")
    expect(findings).to_have_text(
        [
            f'The HTML part must show the postal address: "{ADDRESS}".',
            "The HTML part needs the unsubscribe link: {link:unsubscribe}.",
            f'The text part must show the postal address: "{ADDRESS}".',
            "The text part needs the unsubscribe link: {link:unsubscribe}.",
        ]
    )
    # And the preview shows the email for the sample contact at both widths, script-free
    for frame_id, width in (("#cue-email-desktop", 600), ("#cue-email-phone", 375)):
        expect(page.locator(frame_id)).to_have_attribute("style", f"width: {width}px;")
        lead = page.frame_locator(frame_id).locator("p.lead")
        expect(lead).to_have_text("Hi Jordan, the recording is ready.")
        expect(lead).to_have_attribute("style", "color: #1f4e79;")
        expect(page.frame_locator(frame_id).locator("script")).to_have_count(0)
    expect(page.locator("#cue-email-text-source")).to_have_text(
        "Text part: derived from the HTML (write one in the text box to replace it)."
    )
    expect(page.locator("#cue-email-text")).to_contain_text("Hi Jordan, the recording is ready.")

    # When she saves and submits it as it is
    page.click("input[name=_continue]")
    page.click("#cue-submit")

    # Then Submit refuses it with the same reasons, and the version stays a draft
    expect(page.locator(".messagelist .error")).to_have_text(REFUSAL)
    version = TemplateVersion.objects.get(template__name="Webinar recording")
    assert (version.status, "<script" in version.html) == ("draft", False)

    # When she adds the address and the unsubscribe link (her <script> typed in again)
    html = page.locator("#id_html")
    html.fill(FIRST_DRAFT + FOOTER)

    # Then the lint passes and the preview follows her typing
    expect(page.locator(".cue-lint .cue-lint-status")).to_have_text(
        "Nothing to fix: Submit's compliance lint passes."
    )
    for frame_id in ("#cue-email-desktop", "#cue-email-phone"):
        expect(page.frame_locator(frame_id).locator("body")).to_contain_text(ADDRESS)
    expect(page.locator("#cue-email-text")).to_contain_text(f"{ADDRESS}\nUnsubscribe (")

    # When she saves and submits
    page.click("input[name=_continue]")
    page.click("#cue-submit")
    expect(page.locator(".messagelist")).to_contain_text("Version 1 is submitted for review.")

    # And Alex approves it
    review = new_page()
    login(review, live_server, approver)
    review.goto(f"{live_server.url}/admin/library/messagetemplate/{version.template_id}/change/")
    review.click("#cue-approve")
    expect(review.locator(".messagelist")).to_contain_text(
        "Version 1 is approved: it is what this template sends now."
    )

    # Then the approved version stores the sanitised HTML and derives its text from it
    version.refresh_from_db()
    assert (version.status, version.html, version.body) == ("approved", STORED, "")
