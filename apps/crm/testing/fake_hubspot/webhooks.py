"""Webhooks as HubSpot sends them: a JSON array of events, signed with the v3 signature.

X-HubSpot-Signature-v3 is base64(HMAC-SHA256(app secret, method + URI + body +
timestamp)), with X-HubSpot-Request-Timestamp in epoch milliseconds. HubSpot signs the
URI with a few percent-escapes decoded; so does this.
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request

WEBHOOK_TIMEOUT_SECONDS = 5.0
# The escapes HubSpot decodes in the URI before it signs (its v3 signature documentation).
SIGNED_URI_DECODES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def signed_uri(uri: str) -> str:
    for escape, character in SIGNED_URI_DECODES.items():
        uri = uri.replace(escape, character).replace(escape.lower(), character)
    return uri


def v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    source = method.encode() + signed_uri(uri).encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_webhook_request(
    secret: str, url: str, events: list[dict], timestamp_ms: int
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(events, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": v3_signature(secret, "POST", url, body, timestamp_ms),
        "X-HubSpot-Request-Timestamp": str(timestamp_ms),
        "X-HubSpot-Signature-Version": "v3",
    }
    return body, headers


def webhook_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # Webhook targets are local test servers; an environment proxy would only get in the way.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
