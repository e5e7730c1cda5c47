"""Compliance lint, run when a version is submitted.

Errors block the submission; warnings are stored on the version for the approver to weigh.
The rules read `settings.CUE_TEMPLATE_LINT` (see config/settings/base.py) and the brand
the admin set (accounts' Brand), read at each run so a renamed brand holds at once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings

from apps.accounts.selectors import brand_current
from apps.library.email_html import html_to_text
from apps.library.encoding import SmsAnalysis
from apps.library.placeholders import (
    UNSUBSCRIBE_LINK,
    Link,
    Text,
    link_keys,
    placeholders_parse,
    placeholders_without_default,
)

ERROR = "error"
WARNING = "warning"

# Stands in for a tag when reading literal text: matches nothing a rule looks for, so a
# brand or opt-out phrase split by a placeholder does not count as written.
_TAG_GAP = "\x00"


@dataclass(frozen=True)
class Finding:
    rule: str
    level: Literal["error", "warning"]
    message: str
    field: str = "body"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LintInput:
    """What the lint reads: the template's kind and one version's content."""

    channel: str
    category: str
    body: str
    subject: str
    links: dict
    defaults: dict
    worst_case: SmsAnalysis | None  # SMS only: the body rendered at its longest
    html: str = ""  # email only: the sanitised HTML part

    @property
    def text(self) -> str:
        """The text part as sent: the body, or derived from the HTML when left blank."""
        if self.body.strip() or not self.html.strip():
            return self.body
        return html_to_text(self.html)

    def parts(self) -> list[tuple[str, str, str]]:
        """(field, name, content) of each part a recipient may read."""
        if not self.html.strip():
            return [("body", "text", self.body)]
        return [("html", "HTML", html_to_text(self.html)), ("body", "text", self.text)]


def template_lint(item: LintInput) -> list[Finding]:
    """Every finding for one version, errors first."""
    findings = [*_content_findings(item), *_channel_findings(item), *_advice(item)]
    return sorted(findings, key=lambda finding: finding.level != ERROR)


def _content_findings(item: LintInput) -> list[Finding]:
    findings = []
    if not item.body.strip() and not (item.channel == "email" and item.html.strip()):
        findings.append(Finding("body_required", ERROR, "Write the message body."))
    if item.channel == "email" and not item.subject.strip():
        findings.append(
            Finding("subject_required", ERROR, "An email template needs a subject.", "subject")
        )
    if item.category == "transactional":
        findings.extend(_promotional(item))
    return findings


def _channel_findings(item: LintInput) -> list[Finding]:
    if item.channel == "email":
        return _email_findings(item)
    findings = _shorteners(item) + _sms_only(item)
    if item.category == "marketing" and _config()["MARKETING_SMS"]:
        findings += [*_brand(item), *_opt_out(item), *_segments(item)]
    return findings


def _sms_only(item: LintInput) -> list[Finding]:
    findings = []
    if item.html.strip():
        findings.append(Finding("html_sms", ERROR, "An SMS has no HTML part.", "html"))
    if any(
        isinstance(t, Link) and t.key == UNSUBSCRIBE_LINK for t in placeholders_parse(item.body)
    ):
        message = "{link:unsubscribe} is an email's link; an SMS opts out by reply (STOP)."
        findings.append(Finding("unsubscribe_sms", ERROR, message))
    return findings


def _email_findings(item: LintInput) -> list[Finding]:
    """A marketing email names its sender (PECR), shows the postal address (CAN-SPAM) and
    carries the one-click unsubscribe link, in every part a recipient may read."""
    if item.category != "marketing":
        return []
    brand = brand_current()
    if not brand.name or not brand.postal_address.strip():
        return [
            Finding(
                "brand_address_unset",
                ERROR,
                "The brand needs its name and postal address first: an admin sets them "
                "under Accounts → Brand.",
            )
        ]
    findings = []
    for field, part, content in item.parts():
        findings += _email_part_findings(field, part, content, brand)
    return findings


def _email_part_findings(field: str, part: str, content: str, brand) -> list[Finding]:
    findings = []
    written = _words(literal_text(content))
    if _words(brand.name) not in written:
        message = f'Say who is sending: the {part} part must name "{brand.name}".'
        findings.append(Finding("sender_missing", ERROR, message, field))
    if _words(brand.postal_address) not in written:
        message = (
            f"The {part} part must show the postal address: "
            f'"{" ".join(brand.postal_address.split())}".'
        )
        findings.append(Finding("address_missing", ERROR, message, field))
    if not any(
        isinstance(token, Link) and token.key == UNSUBSCRIBE_LINK
        for token in placeholders_parse(content)
    ):
        message = f"The {part} part needs the unsubscribe link: {{link:unsubscribe}}."
        findings.append(Finding("unsubscribe_missing", ERROR, message, field))
    return findings


def _words(text: str) -> str:
    """Text compared word by word: case, punctuation and line breaks aside, so an address
    written over several lines or with other commas still counts."""
    return " " + " ".join(re.findall(r"[^\W_]+", text.casefold())) + " "


def _config() -> dict:
    return settings.CUE_TEMPLATE_LINT


def literal_text(text: str) -> str:
    """The text a person wrote, with every tag replaced by a gap."""
    return "".join(
        token.text if isinstance(token, Text) else _TAG_GAP for token in placeholders_parse(text)
    )


def _brand(item: LintInput) -> list[Finding]:
    name = brand_current().name
    if not name:
        return [
            Finding(
                "brand_unset",
                ERROR,
                "The brand has no name yet: an admin sets it under Accounts → Brand.",
            )
        ]
    brand = name.casefold()
    written = literal_text(item.body).casefold()
    if brand in written:
        return []
    if brand in written.replace(_TAG_GAP, ""):
        return [
            Finding(
                "brand_placeholder",
                ERROR,
                f'Write the brand name "{name}" out in full, with no placeholder inside it.',
            )
        ]
    return [
        Finding(
            "brand_missing",
            ERROR,
            f'Say who is texting: a marketing SMS must name "{name}".',
        )
    ]


def _opt_out(item: LintInput) -> list[Finding]:
    written = literal_text(item.body)
    if any(re.search(p, written, re.IGNORECASE) for p in _config()["OPT_OUT_PATTERNS"]):
        return []
    return [
        Finding(
            "opt_out_missing",
            ERROR,
            'Tell the recipient how to opt out, e.g. "Reply STOP to opt out".',
        )
    ]


def _segments(item: LintInput) -> list[Finding]:
    limit = _config()["MAX_SEGMENTS"]
    if item.worst_case is None or item.worst_case.segments <= limit:
        return []
    return [
        Finding(
            "segments",
            ERROR,
            f"At its longest this message needs {item.worst_case.segments} segments; "
            f"a marketing SMS may use at most {limit}.",
        )
    ]


def _shorteners(item: LintInput) -> list[Finding]:
    domains = [domain.lower() for domain in _config()["SHORTENER_DOMAINS"]]
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(map(re.escape, domains)) + r")(?![\w-])", re.IGNORECASE
    )
    findings = [
        Finding(
            "shortener",
            ERROR,
            f'The public URL shortener "{found}" is not allowed: carriers filter it. '
            "Use a tracked link such as {link:book}.",
        )
        for found in dict.fromkeys(m.lower() for m in pattern.findall(literal_text(item.body)))
    ]
    for key, spec in item.links.items():
        host = (urlsplit(spec.get("url", "")).hostname or "").lower()
        for domain in domains:
            if host == domain or host.endswith("." + domain):
                message = (
                    f'Link "{key}" points at the public URL shortener "{domain}": link to '
                    "the destination itself."
                )
                findings.append(Finding("shortener", ERROR, message, "links"))
    return findings


def _promotional(item: LintInput) -> list[Finding]:
    written = literal_text(f"{item.subject}\n{item.text}\n{html_to_text(item.html)}")
    for phrase in _config().get("NOT_PROMOTIONAL", []):  # "feel free to reply" sells nothing
        written = _word(phrase).sub(_TAG_GAP, written)
    found = [word for word in _config()["PROMOTIONAL_WORDS"] if _word(word).search(written)]
    if not found:
        return []
    words = ", ".join(f'"{word}"' for word in found)
    # An error, not a warning: a message that both informs and advertises is marketing
    # ("dual purpose", FCC 2003 TCPA Order, 18 FCC Rcd 14014 ¶ 142; prior express written
    # consent for advertising texts, 47 C.F.R. § 64.1200(a)(2)); CTIA's Messaging Principles
    # and Best Practices tell informational messages from promotional ones the same way.
    return [
        Finding(
            "promotional",
            ERROR,
            f"This transactional message reads as promotional ({words}): remove the "
            "promotion, or make the template marketing, which needs marketing consent.",
        )
    ]


def _word(word: str) -> re.Pattern:
    before = r"(?<!\w)" if word[:1].isalnum() else ""
    after = r"(?!\w)" if word[-1:].isalnum() else ""
    return re.compile(before + re.escape(word) + after, re.IGNORECASE)


def _advice(item: LintInput) -> list[Finding]:
    findings = [
        Finding(
            "no_default",
            WARNING,
            f"{source} has no default, so it renders empty when the value is missing.",
        )
        for source in placeholders_without_default(
            text=f"{item.subject}\n{item.text}\n{item.html}", defaults=item.defaults
        )
    ]
    used = set(link_keys(item.body)) | set(link_keys(item.html))
    findings += [
        Finding("unused_link", WARNING, f'Link "{key}" is declared but not used.', "links")
        for key in item.links
        if key not in used
    ]
    return findings
