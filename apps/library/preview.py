"""What an SMS body costs: as typed, and rendered at its longest (the worst case); and how
an email looks, rendered for the sample contact."""

from types import SimpleNamespace
from typing import Any

from apps.library.email_html import html_sanitize
from apps.library.encoding import SmsAnalysis, gsm_normalize, gsm_replacements, sms_analyze
from apps.library.errors import LibraryError
from apps.library.placeholders import (
    placeholders_errors,
    placeholders_validate,
    placeholders_worst_case,
    template_render,
    tracked_link_length,
)

# Who previews render for when no contact is chosen. Never saved.
SAMPLE_CONTACT = SimpleNamespace(
    first_name="Jordan",
    last_name="Rivera",
    company=SimpleNamespace(name="Northwind Health"),
    owner=SimpleNamespace(first_name="Sam", phone="+12025550105"),
    attributes={},
)


def sms_worst_case(*, body: str, defaults: Any) -> SmsAnalysis:
    """The body with every placeholder at its longest plausible value and every tracked
    link at its real length: the figure lint limits and the approver sees."""
    defaults = defaults if isinstance(defaults, dict) else {}
    return sms_analyze(placeholders_worst_case(text=body, defaults=defaults))


def replacement_helps(body: str) -> bool:
    """True when swapping typography for GSM look-alikes saves a segment, or keeps the
    count and brings the body back to GSM-7. ("…" costs 3 septets but 1 UCS-2 unit, so
    the swap can cost more: it is only offered when it does not.)"""
    before, after = sms_analyze(body), sms_analyze(gsm_normalize(body))
    if after.segments != before.segments:
        return after.segments < before.segments
    return after.encoding != before.encoding


def sms_preview(*, body: str, links: Any = None, defaults: Any = None) -> dict:
    """Everything the editor shows about an SMS body, as plain JSON-ready data."""
    analysis = sms_analyze(body)
    worst = sms_worst_case(body=body, defaults=defaults)
    return {
        "encoding": analysis.encoding,
        "segments": analysis.segments,
        "characters": analysis.characters,
        "units_used": analysis.units_used,
        "units_per_segment": analysis.units_per_segment,
        "units_remaining": analysis.units_remaining,
        "non_gsm_characters": list(analysis.non_gsm_characters),
        "replacements": gsm_replacements(body),
        "replacement_helps": replacement_helps(body),
        "worst_case": {
            "encoding": worst.encoding,
            "segments": worst.segments,
            "characters": worst.characters,
            "units_used": worst.units_used,
            "units_remaining": worst.units_remaining,
            "tracked_link_length": tracked_link_length(),
        },
        "errors": placeholders_validate(
            body=body,
            links={} if links is None else links,
            defaults={} if defaults is None else defaults,
        ),
    }


def email_preview(
    *, html: str, body: str, subject: str = "", links: Any = None, defaults: Any = None
) -> dict:
    """The email as the sample contact would get it: the HTML as it would be stored
    (sanitised) and sent (CSS inlined), the text part and whether it is derived from the
    HTML, and any error in either."""
    try:
        stored = html_sanitize(html)
    except LibraryError as error:
        return {"html": "", "sanitised_html": "", "text": "", "text_derived": False,
                "errors": error.messages}  # fmt: skip
    links = links if isinstance(links, dict) else {}
    defaults = defaults if isinstance(defaults, dict) else {}
    errors = placeholders_errors(
        body=body, subject=subject, links=links, defaults=defaults, html=stored
    )
    version = SimpleNamespace(body=body, html=stored, subject=subject, defaults=defaults)
    rendered = template_render(version=version, contact=SAMPLE_CONTACT)
    return {
        "html": rendered.html,
        "sanitised_html": stored,
        "text": rendered.body,
        "text_derived": bool(stored.strip()) and not body.strip(),
        "errors": [message for messages in errors.values() for message in messages],
    }
