"""Whether a text is an email address Cue takes: Django's `validate_email`, answered
without it for the plain addresses that are nearly all of a CRM's (its domain regular
expression, written for every alphabet, was a visible share of a full sync's time).

The plain form is a strict subset of what `validate_email` accepts: ASCII letters, digits,
"_", "+" and "-" in dot-separated atoms before the "@"; after it, labels of letters,
digits and inner hyphens (at most 63 characters) and a top-level domain of 2 to 63
letters. Anything else (quoted local parts, other alphabets, IP literals, "localhost") is
judged by `validate_email` itself, so the answers are the same (a property test holds the
two to it)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"  # dot-atom
    rf"@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}"
)
_MOST_CHARACTERS = 320  # validate_email's limit (RFC 3696, section 3)


def email_address_valid(text: str) -> bool:
    """True if `validate_email` accepts `text`."""
    if len(text) <= _MOST_CHARACTERS and _PLAIN.fullmatch(text):
        return True
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True
