"""Rendering: values are inserted literally, and a missing one falls back to defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.html import escape

from apps.library.email_html import html_inline_css, html_to_text
from apps.library.placeholders.syntax import (
    ATTRIBUTE_WORST_CASE_LENGTH,
    PLACEHOLDERS,
    TRACKED_LINK_TOKEN_LENGTH,
    Link,
    Text,
    Value,
    attribute_key,
    placeholders_parse,
)
from apps.library.placeholders.validation import link_keys

# --- rendering ------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedMessage:
    body: str
    subject: str
    link_keys: tuple[str, ...]
    html: str = ""  # an email's HTML part, CSS inlined; "" for text only


def tracked_link_length() -> int:
    """Characters of a tracked link once minted: PUBLIC_BASE_URL/l/<token>."""
    return len(settings.PUBLIC_BASE_URL) + len("/l/") + TRACKED_LINK_TOKEN_LENGTH


def placeholder_link_url(key: str) -> str:
    """A stand-in for a tracked link, exactly as long as a real one."""
    return f"{settings.PUBLIC_BASE_URL}/l/{'x' * TRACKED_LINK_TOKEN_LENGTH}"


def version_text(version: Any) -> str:
    """The text a version sends: its body, or for an email whose text part was left blank,
    the text derived from its HTML."""
    html = getattr(version, "html", "") or ""
    if (version.body or "").strip() or not html.strip():
        return version.body or ""
    return html_to_text(html)


def template_render(
    *, version: Any, contact: Any, link_url: Callable[[str], str] | None = None
) -> RenderedMessage:
    """The version's text, subject and HTML part for one contact.

    Values are inserted literally into the text (braces, emoji, markup and all) and escaped
    into the HTML; a missing value falls back to the inline default, then the version's
    `defaults`, then "". `link_url(key)` gives the tracked URL for `{link:key}`; without
    it a same-length stand-in is used.
    """
    defaults = version.defaults if isinstance(version.defaults, dict) else {}
    link_url = link_url or placeholder_link_url
    text = version_text(version)
    body = _render(text, contact, defaults, link_url)
    subject = _render(version.subject, contact, defaults, link_url)
    html_source = getattr(version, "html", "") or ""
    html = ""
    if html_source.strip():
        html = html_inline_css(_render(html_source, contact, defaults, link_url, escape))
    keys = tuple(dict.fromkeys([*link_keys(text), *link_keys(html_source)]))
    return RenderedMessage(body=body, subject=subject, link_keys=keys, html=html)


def _render(
    text: str,
    contact: Any,
    defaults: dict,
    link_url: Callable[[str], str],
    quote: Callable[[str], str] = str,
) -> str:
    """`quote` makes a value safe where it lands: HTML-escaping for the HTML part. An
    inline default is written in the text itself (and in HTML was sanitised with it)."""
    parts = []
    for token in placeholders_parse(text or ""):
        if isinstance(token, Text):
            parts.append(token.text)
        elif isinstance(token, Value):
            value = _value_of(contact, token.name)
            if value:
                parts.append(quote(value))
            else:
                parts.append(token.default or quote(_text(defaults.get(token.name))))
        elif isinstance(token, Link):
            parts.append(quote(link_url(token.key)))
        else:  # unreachable for a validated version; shown as written, never evaluated
            parts.append(token.source)
    return "".join(parts)


def _value_of(contact: Any, name: str) -> str:
    key = attribute_key(name)
    try:
        value = _attribute_of(contact, key) if key else PLACEHOLDERS[name].resolve(contact)
    except Exception:  # a half-loaded or odd contact renders as "missing", never fails a send
        return ""
    return _text(value)


def _attribute_of(contact: Any, key: str) -> Any:
    """A stored attribute as people read it: a list as "a, b", a boolean as yes or no. A
    definition removed after approval leaves the value missing, so the default is used."""
    value = (contact.attributes or {}).get(key)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # an object whose __str__ fails is as good as missing
        return ""
    return text.strip()


def placeholders_worst_case(*, text: str, defaults: dict) -> str:
    """The text as it renders at its longest: every value at its longest plausible length
    (keeping a default's own characters, which may change the encoding) and every tracked
    link at its real length."""
    parts = []
    link = placeholder_link_url("")
    for token in placeholders_parse(text or ""):
        if isinstance(token, Value):
            parts.append(_longest_value(token, defaults))
        elif isinstance(token, Link):
            parts.append(link)
        else:
            parts.append(token.text if isinstance(token, Text) else token.source)
    return "".join(parts)


def _longest_value(token: Value, defaults: dict) -> str:
    known = PLACEHOLDERS.get(token.name)
    longest = known.worst_case_length if known else ATTRIBUTE_WORST_CASE_LENGTH
    fallbacks = [token.default or "", _text(defaults.get(token.name))]
    fallback = max(fallbacks, key=len)
    return fallback + "x" * max(0, longest - len(fallback))
