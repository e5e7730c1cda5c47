"""Validation of template text, declared links and defaults: every problem as a message
that quotes the offending text."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from apps.contacts.models import AttributeDefinition, AttributeObject
from apps.library.placeholders.syntax import (
    LINK_KEY,
    MAX_DEFAULT_LENGTH,
    UNSUBSCRIBE_LINK,
    Invalid,
    Link,
    Value,
    attribute_key,
    placeholder_is_known,
    placeholders_parse,
)

# --- validation -----------------------------------------------------------------------


def placeholders_validate(*, body: str, links: Any, defaults: Any) -> list[str]:
    """Every problem with a body and its declared links and defaults, as messages."""
    errors = placeholders_errors(body=body, subject="", links=links, defaults=defaults)
    return [message for messages in errors.values() for message in messages]


def placeholders_errors(
    *, body: str, subject: str, links: Any, defaults: Any, html: str = ""
) -> dict:
    """{field: [messages]} for body, subject, html, links and defaults; empty when all is
    well."""
    declared = {*links, UNSUBSCRIBE_LINK} if isinstance(links, dict) else {UNSUBSCRIBE_LINK}
    errors = {
        "body": _text_errors(body, declared),
        "subject": _text_errors(subject, declared, links_allowed=False),
        "html": _text_errors(html, declared),
        "links": links_errors(links),
        "defaults": defaults_errors(defaults),
    }
    errors["body"] += _attribute_errors(_value_names(body))
    errors["subject"] += _attribute_errors(_value_names(subject))
    errors["html"] += _attribute_errors(_value_names(html))
    errors["defaults"] += _attribute_errors(list(defaults) if isinstance(defaults, dict) else [])
    return {field: messages for field, messages in errors.items() if messages}


def _text_errors(text: str, declared: set[str], links_allowed: bool = True) -> list[str]:
    errors = []
    for token in placeholders_parse(text or ""):
        if isinstance(token, Invalid):
            errors.append(token.message)
        elif isinstance(token, Link) and not links_allowed:
            errors.append(f'Links belong in the body, not here: "{token.source}".')
        elif isinstance(token, Link) and token.key not in declared:
            errors.append(f'Link "{token.source}" is not declared: add "{token.key}" to the links.')
    return list(dict.fromkeys(errors))


_HTTPS = URLValidator(schemes=["https"])


def links_errors(links: Any) -> list[str]:
    if not isinstance(links, dict):
        return ['Links must be an object: {"book": {"url": "https://…", "key": false}}.']
    errors = []
    for key, spec in links.items():
        if not LINK_KEY.fullmatch(str(key)):
            errors.append(f'Link key "{key}" must be lowercase letters, digits and underscores.')
        elif key == UNSUBSCRIBE_LINK:
            errors.append(
                f'"{key}" is the one-click unsubscribe link, filled in by Cue: '
                "use {link:unsubscribe} without declaring it."
            )
        elif not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
            errors.append(f'Link "{key}" needs a "url".')
        else:
            errors.extend(_link_spec_errors(key, spec))
    return errors


def _link_spec_errors(key: str, spec: dict) -> list[str]:
    errors = []
    try:
        _HTTPS(spec["url"])
    except ValidationError:
        errors.append(f'Link "{key}" must point to an https:// address.')
    if not isinstance(spec.get("key", False), bool):
        errors.append(f'Link "{key}": "key" must be true or false.')
    unknown = sorted(set(spec) - {"url", "key"})
    if unknown:
        errors.append(f'Link "{key}" has unknown fields: {", ".join(unknown)}.')
    return errors


def _value_names(text: str) -> list[str]:
    return [token.name for token in placeholders_parse(text or "") if isinstance(token, Value)]


def _attribute_errors(names: list[str]) -> list[str]:
    """Attributes named that no contact attribute definition has (one query, if any)."""
    keys = [key for key in map(attribute_key, names) if key]
    if not keys:
        return []
    defined = set(
        AttributeDefinition.objects.filter(
            object_type=AttributeObject.CONTACT, key__in=keys
        ).values_list("key", flat=True)
    )
    return [
        f'Unknown attribute "contact.attr.{key}": define it as a contact attribute first.'
        for key in dict.fromkeys(keys)
        if key not in defined
    ]


def defaults_errors(defaults: Any) -> list[str]:
    if not isinstance(defaults, dict):
        return ['Defaults must be an object: {"contact.first_name": "there"}.']
    errors = []
    for name, text in defaults.items():
        if not placeholder_is_known(name):
            errors.append(f'Default for unknown placeholder "{name}".')
        elif not isinstance(text, str):
            errors.append(f'Default for "{name}" must be text.')
        elif len(text) > MAX_DEFAULT_LENGTH:
            errors.append(f'Default for "{name}" is longer than {MAX_DEFAULT_LENGTH} characters.')
    return errors


def placeholders_without_default(*, text: str, defaults: dict) -> list[str]:
    """Placeholders that render empty when their value is missing, as written."""
    missing = [
        token.source
        for token in placeholders_parse(text)
        if isinstance(token, Value) and not token.default and not defaults.get(token.name)
    ]
    return list(dict.fromkeys(missing))


def link_keys(text: str) -> list[str]:
    """The tracked links a text uses, in order of first use (not the unsubscribe link)."""
    keys = [
        token.key
        for token in placeholders_parse(text)
        if isinstance(token, Link) and token.key != UNSUBSCRIBE_LINK
    ]
    return list(dict.fromkeys(keys))
