"""HTML email templates: the HTML is sanitised when saved, its <style> block inlined when
rendered, the text part derived from it when left blank, and a marketing email's lint asks
for the sender, the postal address and the unsubscribe link in both parts."""

from types import SimpleNamespace

import pytest

from apps.accounts.services import brand_save
from apps.library.email_html import html_inline_css, html_sanitize, html_to_text
from apps.library.errors import LibraryError
from apps.library.placeholders import template_render
from apps.library.services import template_create, version_submit, version_update

pytestmark = pytest.mark.django_db

ADDRESS = "Cue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701"
HTML = (
    "<style>.lead { color: #1f4e79; }</style>"
    '<p class="lead">Hi {{ contact.first_name | "there" }}, the recording is ready.</p>'
    '<p><a href="{link:recording}">Watch it</a></p>'
    f"<p>Cue Demo, {ADDRESS}<br>"
    '<a href="{link:unsubscribe}">Unsubscribe</a></p>'
)
LINKS = {"recording": {"url": "https://example.com/recording", "key": False}}


def email_template(marketer, *, html=HTML, body="", category="marketing"):
    return template_create(
        actor=marketer, name="Recording", channel="email", purpose="progress",
        category=category, subject="Your recording", body=body, html=html, links=LINKS,
    )  # fmt: skip


# --- the sanitiser --------------------------------------------------------------------


def test_it_removes_scripts_event_handlers_and_javascript_urls():
    typed = (
        '<p onclick="steal()">Hello</p><script>alert(1)</script>'
        '<img src="https://example.com/logo.png" alt="Logo" onerror="alert(2)">'
        '<a href="javascript:alert(3)">Click</a><a href="JaVaScRiPt:alert(4)">Again</a>'
        '<iframe src="https://evil.example"></iframe><form action="/x"><input></form>'
    )

    assert html_sanitize(typed) == (
        '<p>Hello</p><img src="https://example.com/logo.png" alt="Logo"><a>Click</a><a>Again</a>'
    )


def test_it_keeps_what_a_newsletter_needs():
    typed = (
        "<h1>News</h1><h2>Two</h2><h3>Three</h3><p><strong>Bold</strong> <em>it</em></p>"
        "<ul><li>One</li></ul><ol><li>Two</li></ol>"
        '<table width="600"><tbody><tr><td align="left">Cell</td></tr></tbody></table>'
        '<div style="color:red"><span style="font-weight:bold">Styled</span></div>'
        '<a href="https://example.com/a?b=1">Link</a><a href="{link:recording}">Tracked</a>'
    )

    assert html_sanitize(typed) == typed


def test_it_keeps_only_styling_properties_in_a_style_attribute():
    typed = '<span style="color: red; background-image: url(javascript:alert(1))">x</span>'

    assert html_sanitize(typed) == '<span style="color:red">x</span>'


def test_it_refuses_a_nul_byte_with_a_clear_error():
    with pytest.raises(LibraryError) as refused:
        html_sanitize("<p>Hi\x00</p>")

    assert refused.value.as_field_errors() == {
        "html": ["The HTML contains a NUL character; remove it."]
    }


def test_it_refuses_a_style_block_that_loads_something():
    with pytest.raises(LibraryError) as refused:
        html_sanitize('<style>@import url("https://evil.example/x.css");</style><p>Hi</p>')

    assert refused.value.as_field_errors() == {
        "html": ['The <style> block may only style: "@import" is not allowed.']
    }


def test_sanitising_twice_changes_nothing():
    once = html_sanitize(HTML + "<p onmouseover=x>A &amp; B < C</p>")

    assert html_sanitize(once) == once


def test_a_draft_stores_the_sanitised_html(marketer):
    template = email_template(marketer, html='<p>Hi</p><script>alert("x")</script>')
    draft = template.versions.get()
    assert draft.html == "<p>Hi</p>"

    version_update(actor=marketer, version=draft, html='<p onclick="x()">Edited</p>')

    draft.refresh_from_db()
    assert draft.html == "<p>Edited</p>"


def test_an_sms_template_has_no_html(marketer):
    with pytest.raises(LibraryError) as refused:
        template_create(
            actor=marketer, name="Text", channel="sms", purpose="remind",
            category="transactional", body="Your meeting is at 3pm.", html="<p>Hi</p>",
        )  # fmt: skip

    assert refused.value.as_field_errors() == {"html": ["Only an email template has an HTML part."]}


# --- rendering: inline CSS, escaping, the derived text ----------------------------------


def test_it_inlines_the_style_block_into_style_attributes():
    inlined = html_inline_css('<style>p.lead { color: red }</style><p class="lead">Hi</p>')

    assert inlined == (
        '<html><head></head><body><p class="lead" style="color: red;">Hi</p></body></html>'
    )


def test_it_renders_values_escaped_into_the_html_and_as_written_into_the_text():
    version = SimpleNamespace(
        body="", subject="Hi", defaults={},
        html=html_sanitize('<p>Hi {{ contact.first_name | "you & yours" }}</p>'),
    )  # fmt: skip

    sneaky = template_render(version=version, contact=SimpleNamespace(first_name="<b>Ann</b>"))
    missing = template_render(version=version, contact=SimpleNamespace(first_name=""))

    assert "<p>Hi &lt;b&gt;Ann&lt;/b&gt;</p>" in sneaky.html
    assert sneaky.body == "Hi <b>Ann</b>"
    assert "<p>Hi you &amp; yours</p>" in missing.html
    assert missing.body == "Hi you & yours"


def test_it_derives_a_readable_text_part_from_the_html():
    html = html_sanitize(
        "<style>p { color: red }</style><h1>News</h1><p>First &amp; second.</p>"
        '<ul><li>One</li><li>Two</li></ul><p><a href="{link:recording}">Watch</a> '
        '<img src="https://example.com/i.png" alt="A chart"></p><p>Line<br>break</p>'
    )

    assert html_to_text(html) == (
        "News\n\nFirst & second.\n\n- One\n- Two\n\nWatch ({link:recording}) A chart\n\nLine\nbreak"
    )


def test_a_written_text_part_is_sent_as_written(marketer):
    version = email_template(marketer, body="The text part.").versions.get()

    rendered = template_render(version=version, contact=SimpleNamespace(first_name="Ann"))

    assert rendered.body == "The text part."
    assert "Hi Ann, the recording is ready." in rendered.html


# --- lint ----------------------------------------------------------------------------


def test_a_complete_marketing_email_submits(marketer):
    version = email_template(marketer).versions.get()

    version = version_submit(actor=marketer, version=version, notify=False)

    assert version.status == "submitted"


def test_it_refuses_a_marketing_email_without_address_or_unsubscribe_in_either_part(marketer):
    version = email_template(marketer, html="<p>Cue Demo: the recording is ready.</p>")
    version = version.versions.get()
    version_update(actor=marketer, version=version, body="Cue Demo: it is ready.")

    with pytest.raises(LibraryError) as refused:
        version_submit(actor=marketer, version=version, notify=False)

    assert refused.value.as_field_errors() == {
        "html": [
            f'The HTML part must show the postal address: "{ADDRESS}".',
            "The HTML part needs the unsubscribe link: {link:unsubscribe}.",
        ],
        "body": [
            f'The text part must show the postal address: "{ADDRESS}".',
            "The text part needs the unsubscribe link: {link:unsubscribe}.",
        ],
    }
    version.refresh_from_db()
    assert version.status == "draft"


def test_it_asks_for_the_sender_in_a_written_text_part(marketer):
    version = email_template(marketer, body=f"{ADDRESS.replace('Cue Demo ', '')} "
                             "{link:unsubscribe}").versions.get()  # fmt: skip

    with pytest.raises(LibraryError) as refused:
        version_submit(actor=marketer, version=version, notify=False)

    assert refused.value.as_field_errors() == {
        "body": [
            'Say who is sending: the text part must name "Cue Demo".',
            f'The text part must show the postal address: "{ADDRESS}".',
        ]
    }


def test_it_asks_for_the_brands_address_when_none_is_set(marketer):
    brand_save(postal_address="")
    version = email_template(marketer).versions.get()

    with pytest.raises(LibraryError) as refused:
        version_submit(actor=marketer, version=version, notify=False)

    assert refused.value.messages == [
        "The brand needs its name and postal address first: an admin sets them under "
        "Accounts → Brand."
    ]


def test_a_transactional_email_needs_no_unsubscribe(marketer):
    version = email_template(
        marketer, html="<p>Your invoice is ready.</p>", category="transactional"
    ).versions.get()

    version = version_submit(actor=marketer, version=version, notify=False)

    assert (version.status, version.lint_findings) == (
        "submitted",
        [
            {
                "rule": "unused_link",
                "level": "warning",
                "message": 'Link "recording" is declared but not used.',
                "field": "links",
            }
        ],
    )


def test_it_matches_the_address_across_lines_and_punctuation(marketer):
    html = HTML.replace(ADDRESS, "Cue Demo Inc.<br>100 Market Street<br>Suite 300<br>"
                        "Springfield IL 62701")  # fmt: skip
    version = email_template(marketer, html=html).versions.get()

    version = version_submit(actor=marketer, version=version, notify=False)

    assert version.status == "submitted"


def test_the_unsubscribe_link_is_cues_own_not_a_declared_link(marketer):
    with pytest.raises(LibraryError) as refused:
        template_create(
            actor=marketer, name="Declares it", channel="email", purpose="progress",
            category="marketing", subject="Hi", body="", html=HTML,
            links={**LINKS, "unsubscribe": {"url": "https://example.com/u"}},
        )  # fmt: skip

    assert refused.value.as_field_errors() == {
        "links": [
            '"unsubscribe" is the one-click unsubscribe link, filled in by Cue: use '
            "{link:unsubscribe} without declaring it."
        ]
    }


def test_a_submitted_versions_html_cannot_change(marketer):
    version = email_template(marketer).versions.get()
    version_submit(actor=marketer, version=version, notify=False)

    with pytest.raises(LibraryError):
        version_update(actor=marketer, version=version, html="<p>Changed</p>")

    version.refresh_from_db()
    assert version.html == html_sanitize(HTML)


# --- the preview API ------------------------------------------------------------------


def test_the_preview_api_renders_the_email_for_the_sample_contact(client, marketer, settings):
    client.force_login(marketer)

    answer = client.post(
        "/api/v1/templates/preview/",
        {"channel": "email", "category": "marketing", "subject": "Hi", "body": "",
         "html": HTML + "<script>x()</script>", "links": LINKS},
        content_type="application/json",
    ).json()  # fmt: skip

    assert answer["lint"] == []
    email = answer["email"]
    assert email["sanitised_html"] == html_sanitize(HTML)
    assert (
        '<p class="lead" style="color: #1f4e79;">Hi Jordan, the recording is ready.</p>'
        in (email["html"])
    )
    assert "<script>" not in email["html"]
    assert email["text_derived"] is True
    assert email["text"].startswith(
        f"Hi Jordan, the recording is ready.\n\nWatch it ({settings.PUBLIC_BASE_URL}/l/"
    )
    assert email["errors"] == []


def test_the_preview_api_strips_a_nul_byte_at_the_edge(client, marketer):
    client.force_login(marketer)

    response = client.post(
        "/api/v1/templates/preview/",
        {"channel": "email", "body": "", "html": "<p>Hi\u0000 there</p>"},
        content_type="application/json",
    )

    assert response.status_code == 200
    email = response.json()["email"]
    assert (email["sanitised_html"], email["text"], email["errors"]) == (
        "<p>Hi there</p>", "Hi there", [],
    )  # fmt: skip


def test_the_version_diff_shows_what_changed_in_the_html(marketer, approver):
    from apps.library.selectors import version_diff
    from apps.library.services import template_content_edit, version_approve

    template = email_template(marketer)
    first = version_submit(actor=marketer, version=template.versions.get(), notify=False)
    first = version_approve(actor=approver, version=first, notify=False)
    second = template_content_edit(
        actor=marketer, template=template, html=HTML.replace("Watch it", "Watch the recording")
    )

    [diff] = version_diff(old=first, new=second)
    changed = {
        kind: "".join(text for k, text in diff.runs if k == kind) for kind in ("delete", "insert")
    }
    assert (diff.field, changed) == (
        "html",
        {"delete": "it</a></p><p>Cue", "insert": "the recording</a></p><p>Cue"},
    )
