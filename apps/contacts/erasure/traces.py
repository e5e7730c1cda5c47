"""What identifies a person in text, and what is left in its place after erasure.

Addresses (phone numbers, emails) become a keyed hash: the same number hashes the same way
for every contact and every table, so an erased number on the suppression list still stops
a message to it, and the ledger's rows still match the messages they allowed, while nobody
without the key can tell which number it was. Everything else that names the person (names,
ids, the texts they sent or were sent) becomes ERASED.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings

from apps.contacts.phones import phone_format_e164

ERASED = "[erased]"
ERASED_PREFIX = "erased:"
# 25 hex digits (100 bits) fit the narrowest address column (inbound numbers, 32).
HASH_DIGITS = 25
SHORTEST_NAME = 2  # a one-letter initial would erase that letter everywhere
SHORTEST_TEXT = 8  # "STOP" or "Yes" are not the person's words alone


def address_erased_key(address: str) -> str:
    """The keyed hash an erased phone number or email is kept as ("erased:…")."""
    address = address_canonical(address)
    if address.startswith(ERASED_PREFIX):
        return address
    digest = hmac.new(_hash_key(), address.encode(), hashlib.sha256).hexdigest()
    return f"{ERASED_PREFIX}{digest[:HASH_DIGITS]}"


def address_canonical(address: str) -> str:
    """E.164 for a phone number, lower case for an email: one form per address, so that
    its hash is one value wherever it was written."""
    address = (address or "").strip()
    if "@" in address:
        return address.lower()
    if address.startswith(ERASED_PREFIX):
        return address
    return phone_format_e164(address) or address


def _hash_key() -> bytes:
    """CUE_ERASURE_HASH_KEY, or one derived from SECRET_KEY. A dedicated key survives a
    rotation of SECRET_KEY; with the derived one, rotating it unlinks erased suppressions."""
    if settings.CUE_ERASURE_HASH_KEY:
        return settings.CUE_ERASURE_HASH_KEY.encode()
    return hashlib.sha256(b"cue.erasure.address:" + settings.SECRET_KEY.encode()).digest()


@dataclass
class PersonTraces:
    """The person's identifiers, gathered from every part before anything changes.

    `addresses` are replaced by their keyed hash, `identifiers` (names, ids) and `texts`
    (message bodies, replies, notes) by ERASED. Rows that are not the person's own (a
    Segment rejection, an admin log entry) are chosen by `selectors`: addresses and ids
    only, since another person may share a name or receive the same template."""

    addresses: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    _pattern: re.Pattern | None = field(default=None, repr=False)

    def address_add(self, address: str | None) -> None:
        canonical = address_canonical(str(address or ""))
        if not canonical or canonical.startswith(ERASED_PREFIX):
            return
        self.addresses.add(canonical)
        self._pattern = None
        number = _national_digits(canonical)
        if number:
            self.identifiers.add(number)

    def identifier_add(self, value: str | None) -> None:
        value = str(value or "").strip()
        if value and not value.startswith(ERASED_PREFIX):
            self.identifiers.add(value)
            self._pattern = None

    def name_add(self, value: str | None) -> None:
        value = str(value or "").strip()
        if len(value) >= SHORTEST_NAME:
            self.names.add(value)
            self._pattern = None

    def text_add(self, value: str | None) -> None:
        value = str(value or "").strip()
        if len(value) >= SHORTEST_TEXT and value != ERASED:
            self.texts.add(value)
            self._pattern = None

    @property
    def address_forms(self) -> set[str]:
        """Each address as written before the erasure and as its keyed hash after."""
        return self.addresses | {address_erased_key(a) for a in self.addresses}

    @property
    def selectors(self) -> list[str]:
        """What picks out a row about this person among everyone's: addresses and ids."""
        return sorted(self.addresses | self.identifiers)

    def scrub(self, text: str | None) -> str:
        """The text with every trace of the person replaced."""
        if not text:
            return text or ""
        pattern = self._compiled()
        if pattern is None:
            return text
        return pattern.sub(self._replacement, text)

    def scrub_data(self, value):
        """JSON-like data with every string (keys included) scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub(str(k)): self.scrub_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_data(item) for item in value]
        return value

    def mentions(self, text: str | None) -> bool:
        return bool(text) and self.scrub(text) != text

    def _replacement(self, match: re.Match) -> str:
        found = match.group(0)
        canonical = address_canonical(found)
        if canonical in self.addresses:
            return address_erased_key(canonical)
        return ERASED

    def _compiled(self) -> re.Pattern | None:
        if self._pattern is not None:
            return self._pattern
        plain = sorted(self.addresses | self.identifiers | self.texts, key=len, reverse=True)
        words = sorted(self.names, key=len, reverse=True)
        alternatives = [re.escape(value) for value in plain]
        # Names only as whole words: "Al" is not erased from "Always".
        alternatives += [rf"(?<!\w){re.escape(name)}(?!\w)" for name in words]
        if not alternatives:
            return None
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE)
        return self._pattern


def _national_digits(address: str) -> str:
    """A number's national digits (4155550123), as people write it in free text."""
    if not address.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(address)
    except phonenumbers.NumberParseException:
        return ""
    return str(number.national_number)
