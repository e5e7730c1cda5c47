"""What Submit checks on a template's content, asked of a version or of text being typed.

One function answers it for both, so the editor's live lint and the submission agree.
"""

from typing import Any

from apps.library.email_html import html_sanitize
from apps.library.errors import LibraryError
from apps.library.lint import ERROR, Finding, LintInput, template_lint
from apps.library.models import Channel
from apps.library.placeholders import placeholders_errors
from apps.library.preview import email_preview, sms_preview, sms_worst_case


def content_errors(
    *, channel: str, body: str, subject: str, html: str, links: Any, defaults: Any
) -> dict[str, list[str]]:
    """{field: [messages]} for content that may not be saved as a draft, empty when it may:
    the part the channel needs, HTML only on an email and only what the sanitiser can store,
    valid placeholders. The admin's form and the API ask this (through the services), so a
    draft is refused for the same reasons whichever way it comes."""
    errors: dict[str, list[str]] = {}
    if channel == Channel.SMS and not (body or "").strip():
        errors["body"] = ["Write the message body."]
    if channel == Channel.EMAIL and not (body or html):
        errors["body"] = ["Write the text part, the HTML part, or both."]
    if html and channel != Channel.EMAIL:
        errors["html"] = ["Only an email template has an HTML part."]
    elif html:
        try:
            html_sanitize(html)
        except LibraryError as error:
            errors["html"] = error.messages
    found = placeholders_errors(
        body=body, subject=subject, links=links, defaults=defaults, html=html
    )
    for field, messages in found.items():
        errors.setdefault(field, []).extend(messages)
    return errors


def content_lint(
    *,
    channel: str,
    category: str,
    body: str,
    subject: str = "",
    links: Any,
    defaults: Any,
    html: str = "",
) -> list[Finding]:
    """Placeholder errors when there are any (the lint reads valid placeholders only),
    else every compliance finding, errors first."""
    errors = placeholders_errors(
        body=body, subject=subject, links=links, defaults=defaults, html=html
    )
    if errors:
        return [
            Finding("placeholders", ERROR, message, field)
            for field, messages in errors.items()
            for message in messages
        ]
    worst = sms_worst_case(body=body, defaults=defaults) if channel == Channel.SMS else None
    return template_lint(
        LintInput(
            channel=channel, category=category, body=body, subject=subject, links=links,
            defaults=defaults, worst_case=worst, html=html,
        )
    )  # fmt: skip


def editor_preview(
    *,
    body: str,
    links: Any = None,
    defaults: Any = None,
    channel: str = Channel.SMS,
    category: str | None = None,
    subject: str = "",
    html: str = "",
) -> dict:
    """The SMS size figures and, once the category is known, the findings Submit would
    report for this text (None before: the brand and opt-out rules depend on it). For an
    email, also the email as the sample contact would get it."""
    links = {} if links is None else links
    defaults = {} if defaults is None else defaults
    lint = None
    if category is not None:
        findings = content_lint(
            channel=channel, category=category, body=body, subject=subject, links=links,
            defaults=defaults, html=_html_as_stored(html),
        )  # fmt: skip
        lint = [finding.as_dict() for finding in findings]
    answer = {**sms_preview(body=body, links=links, defaults=defaults), "lint": lint}
    if channel == Channel.EMAIL:
        answer["email"] = email_preview(
            html=html, body=body, subject=subject, links=links, defaults=defaults
        )
    return answer


def _html_as_stored(html: str) -> str:
    """What the lint reads: the HTML as saving would store it (its refusal, such as a NUL,
    is reported by the email preview)."""
    try:
        return html_sanitize(html)
    except LibraryError:
        return ""
