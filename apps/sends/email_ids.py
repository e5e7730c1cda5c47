"""The Message-ID of each email Cue sends, and reading the ids a reply names.

The id is `<cue.{message pk}.{mac}@{Cue's host}>`, the MAC an HMAC-SHA256 (SECRET_KEY,
salted) of the message's pk and send key, cut to 128 bits. Derived, not stored: nothing is
added to the partitioned message table or to the engine's batch insert, a retried send
carries the same id, and a reply is matched by primary key and one constant-time compare.
Unguessable: knowing one message's id tells nothing of another's, and a forged id (a real
pk with a made-up MAC) names nothing. SECRET_KEY_FALLBACKS keep old ids valid across a key
rotation; a key dropped from them leaves its replies to the fallback rule.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "cue.sends.email-message-id"
MAC_LENGTH = 32  # hex digits: 128 bits
_OWN_ID = re.compile(rf"^cue\.(\d{{1,19}})\.([0-9a-f]{{{MAC_LENGTH}}})@")
_BRACKETED = re.compile(r"<([^<>\s]+)>")
_SPACED_BRACKET = re.compile(r"<\s+|\s+>")
MAX_IDS = 50  # the ids read from one reply, most telling first
MAX_PK = 2**63 - 1
# What a Message-ID is made of (RFC 5322: printable ASCII); anything else (a NUL, a word in
# another script) names nothing and never reaches a query.
_ID_TEXT = re.compile(r"^[\x21-\x7e]{1,250}$")


def email_message_id(*, pk: int, send_key: str) -> str:
    """The Message-ID header of the email of message `pk`."""
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "cue.invalid"
    return f"<cue.{pk}.{_mac(pk, send_key, settings.SECRET_KEY)}@{host}>"


def email_message_id_verify(*, pk: int, send_key: str, mac: str) -> bool:
    return any(
        constant_time_compare(_mac(pk, send_key, secret), mac)
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    )


def _mac(pk: int, send_key: str, secret: str) -> str:
    digest = salted_hmac(SALT, f"{pk}:{send_key}", secret=secret, algorithm="sha256")
    return digest.hexdigest()[:MAC_LENGTH]


def own_id_parse(message_id: str) -> tuple[int, str] | None:
    """(pk, mac) of an id of Cue's form (in any case), or None."""
    match = _OWN_ID.match(message_id.lower())
    if match is None or int(match[1]) > MAX_PK:
        return None
    return int(match[1]), match[2]


def reply_ids(*, in_reply_to: list[str], references: list[str]) -> list[str]:
    """The ids a reply names, most telling first: In-Reply-To's, then References' from the
    last (the message answered) back to the first. Each is bare (no brackets) and trimmed;
    repeats are dropped."""
    named = [*_ids_in(in_reply_to), *reversed(_ids_in(references))]
    return list(dict.fromkeys(named))[:MAX_IDS]


def _ids_in(values: list[str]) -> list[str]:
    """The ids in header values: those in angle brackets, else the whitespace-separated
    words (some mailers drop the brackets)."""
    found = []
    for value in values:
        text = _SPACED_BRACKET.sub(lambda m: m[0].strip(), str(value or ""))
        bracketed = _BRACKETED.findall(text)
        found += bracketed or text.split()
    bare = (item.strip().strip("<>") for item in found)
    return [item for item in bare if _ID_TEXT.match(item)]
