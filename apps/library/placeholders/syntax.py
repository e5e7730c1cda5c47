"""The placeholder language: the allow-list and a tokenizer that never raises."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# --- the allow-list -------------------------------------------------------------------


def _attr(*path: str) -> Callable[[Any], Any]:
    def resolve(obj: Any) -> Any:
        for name in path:
            obj = getattr(obj, name)
            if obj is None:
                return None
        return obj

    return resolve


@dataclass(frozen=True)
class Placeholder:
    """A value a template may insert, and its longest plausible length (for sizing)."""

    name: str
    description: str
    worst_case_length: int
    resolve: Callable[[Any], Any]


PLACEHOLDERS: dict[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder("contact.first_name", "The contact's first name", 24, _attr("first_name")),
        Placeholder("contact.last_name", "The contact's last name", 24, _attr("last_name")),
        Placeholder("contact.company", "The contact's company", 40, _attr("company", "name")),
        Placeholder("company.name", "The contact's company", 40, _attr("company", "name")),
        Placeholder(
            "owner.first_name", "The contact owner's first name", 16, _attr("owner", "first_name")
        ),
        Placeholder("owner.phone", "The contact owner's phone", 16, _attr("owner", "phone")),
    )
}

# A custom contact attribute: {{ contact.attr.plan }}. The syntax is checked here; whether
# the key is defined is checked against the definitions when a draft is saved or submitted.
ATTRIBUTE_PREFIX = "contact.attr."
ATTRIBUTE_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
ATTRIBUTE_WORST_CASE_LENGTH = 40


def attribute_key(name: str) -> str | None:
    """The attribute key a placeholder name reads, or None for a built-in name."""
    if not name.startswith(ATTRIBUTE_PREFIX):
        return None
    key = name[len(ATTRIBUTE_PREFIX) :]
    return key if ATTRIBUTE_KEY.fullmatch(key) else None


def placeholder_is_known(name: str) -> bool:
    return name in PLACEHOLDERS or attribute_key(name) is not None


# Tracked links are PUBLIC_BASE_URL/l/<token>; the sends app mints tokens this long.
TRACKED_LINK_TOKEN_LENGTH = 22
LINK_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
# {link:unsubscribe} is the email's own one-click unsubscribe link: never declared, never
# tracked (a click must unsubscribe, not count), filled in by the sends app per message.
UNSUBSCRIBE_LINK = "unsubscribe"
MAX_DEFAULT_LENGTH = 100

# --- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Value:
    source: str
    name: str
    default: str | None


@dataclass(frozen=True)
class Link:
    source: str
    key: str


@dataclass(frozen=True)
class Invalid:
    source: str
    message: str


Token = Text | Value | Link | Invalid

_TAG = re.compile(
    r"""
      (?P<value>\{\{[^{}\n]*\}\})
    | (?P<logic>\{%[^{}\n]*%\})
    | (?P<link>\{link:[^{}\s]*\})
    | (?P<open>\{\{|\{%)
    | (?P<close>\}\}|%\})
    | (?P<badlink>\{\s*link\b[^{}\n]*\})
    | (?P<single>\{[A-Za-z_][\w.]*\})
    """,
    re.VERBOSE,
)
_VALUE = re.compile(r"\{\{\s*(?P<name>[^\s|]*)\s*(?P<pipe>\|\s*(?P<default>.*?))?\s*\}\}")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_QUOTED = re.compile(r'"(?P<double>[^"]*)"|\'(?P<single>[^\']*)\'')

EXAMPLE = '{{ contact.first_name | "there" }}'


def placeholders_parse(text: str) -> list[Token]:
    """The text as literal runs and tags, in order; never raises."""
    tokens: list[Token] = []
    position = 0
    for match in _TAG.finditer(text):
        if match.start() > position:
            tokens.append(Text(text[position : match.start()]))
        tokens.append(_tag(match, text))
        position = match.end()
    if position < len(text):
        tokens.append(Text(text[position:]))
    return tokens


def _tag(match: re.Match, text: str) -> Token:
    source = match.group()
    kind = match.lastgroup
    if kind == "value":
        return _value(source)
    if kind == "link":
        key = source[len("{link:") : -1]
        if LINK_KEY.fullmatch(key):
            return Link(source, key)
        return Invalid(
            source,
            f'Malformed link "{source}": a link key is lowercase letters, digits and '
            "underscores, e.g. {link:book}.",
        )
    if kind == "logic":
        return Invalid(source, f'Template logic is not allowed: "{source}".')
    if kind == "open":
        snippet = text[match.start() :].split("\n", 1)[0][:40]
        return Invalid(source, f'Unclosed "{source}" in "{snippet}".')
    if kind == "close":
        snippet = text[: match.end()].rsplit("\n", 1)[-1][-40:]
        opener = "{{" if source == "}}" else "{%"
        return Invalid(source, f'Stray "{source}" with no "{opener}" before it in "{snippet}".')
    if kind == "badlink":
        return Invalid(source, f'Malformed link "{source}": write it as {{link:key}}.')
    return Invalid(
        source,
        f'Unknown placeholder "{source}": placeholders use double braces, e.g. '
        "{{ contact.first_name }}.",
    )


def _value(source: str) -> Token:
    match = _VALUE.fullmatch(source)
    name = match.group("name") if match else ""
    if not name:
        return Invalid(source, f'Empty placeholder "{source}": name a value, e.g. {EXAMPLE}.')
    if any(part.startswith("_") for part in name.split(".")):
        return Invalid(source, f'Attribute access is not allowed: "{source}".')
    if not _NAME.fullmatch(name):
        return Invalid(
            source, f'Malformed placeholder "{source}": write a name such as contact.first_name.'
        )
    if not placeholder_is_known(name):
        known = ", ".join([*PLACEHOLDERS, f"{ATTRIBUTE_PREFIX}<key>"])
        return Invalid(source, f'Unknown placeholder "{source}". Known placeholders: {known}.')
    if match.group("pipe") is None:
        return Value(source, name, None)
    quoted = _QUOTED.fullmatch(match.group("default"))
    if quoted is None:
        return Invalid(
            source,
            f'Malformed placeholder "{source}": only a quoted default may follow "|", '
            f"e.g. {EXAMPLE}.",
        )
    default = quoted.group("double") if quoted.group("double") is not None else quoted["single"]
    return Value(source, name, default)
