"""Placeholders in template text: an allow-list, read by a small tokenizer, rendered
without ever evaluating anything.

    {{ contact.first_name }}             a value from PLACEHOLDERS
    {{ contact.first_name | "there" }}   ... with an inline default for when it is empty
    {link:book}                          a tracked link; "book" must be declared in `links`

Everything else is literal text. Anything that looks like a tag but is not one of these
(an unknown name, `{% if %}`, an unclosed `{{`, a stray `}}`, `contact.__class__`, a
filter) is an error naming the exact text, reported when a draft is saved or submitted:
an approved version can therefore always be rendered, and rendering never raises.
"""

from apps.library.placeholders.rendering import (
    RenderedMessage,
    placeholder_link_url,
    placeholders_worst_case,
    template_render,
    tracked_link_length,
    version_text,
)
from apps.library.placeholders.syntax import (
    PLACEHOLDERS,
    TRACKED_LINK_TOKEN_LENGTH,
    UNSUBSCRIBE_LINK,
    Invalid,
    Link,
    Placeholder,
    Text,
    Value,
    placeholders_parse,
)
from apps.library.placeholders.validation import (
    defaults_errors,
    link_keys,
    links_errors,
    placeholders_errors,
    placeholders_validate,
    placeholders_without_default,
)

__all__ = [
    "PLACEHOLDERS",
    "TRACKED_LINK_TOKEN_LENGTH",
    "UNSUBSCRIBE_LINK",
    "Invalid",
    "Link",
    "Placeholder",
    "RenderedMessage",
    "Text",
    "Value",
    "defaults_errors",
    "link_keys",
    "links_errors",
    "placeholder_link_url",
    "placeholders_errors",
    "placeholders_parse",
    "placeholders_validate",
    "placeholders_without_default",
    "placeholders_worst_case",
    "template_render",
    "tracked_link_length",
    "version_text",
]
