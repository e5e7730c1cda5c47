"""HubSpot's webhook signature, version 3.

X-HubSpot-Signature-v3 is base64(HMAC-SHA256(app client secret, method + URI + body +
timestamp)), where the timestamp is X-HubSpot-Request-Timestamp (epoch milliseconds) and
the URI is the full URL HubSpot called, with a few percent-escapes decoded. A request
more than five minutes from Cue's clock, older or newer, is refused: a captured request
cannot be replayed later, nor one stamped ahead to outlive the window.
"""

import base64
import hashlib
import hmac
from datetime import datetime

MAX_AGE_MS = 5 * 60 * 1000
# HubSpot decodes these escapes in the URI before it signs (its v3 documentation).
DECODED_ESCAPES = (
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
)


def hubspot_signature_valid(
    secret: str,
    method: str,
    uri: str,
    body: bytes | str,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
) -> bool:
    """Whether a webhook request carries HubSpot's v3 signature, made within 5 minutes."""
    if (
        not secret
        or not signature
        or not timestamp
        or not (timestamp.isascii() and timestamp.isdigit())
    ):
        return False
    if abs(round(now.timestamp() * 1000) - int(timestamp)) > MAX_AGE_MS:
        return False
    expected = hubspot_signature(secret, method, uri, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())


def hubspot_signature(secret: str, method: str, uri: str, body: bytes | str, timestamp: str) -> str:
    raw_body = body.encode() if isinstance(body, str) else body
    source = method.upper().encode() + _signed_uri(uri).encode() + raw_body + timestamp.encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _signed_uri(uri: str) -> str:
    for escape, character in DECODED_ESCAPES:
        uri = uri.replace(escape, character).replace(escape.lower(), character)
    return uri
