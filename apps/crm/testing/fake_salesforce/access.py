"""Who may call the fake Salesforce: its OAuth2 refresh-token grant, the access tokens it
issued, and the faults a test scripted in front of the data API."""

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

from .api import Reply, error_reply

ORG_ID = "00DFk0000000001AAA"


@dataclass
class Fault:
    reply: Reply
    remaining: int | None  # requests left to answer this way, or None: until `until`
    until: float | None = None

    def active(self, now: float) -> bool:
        if self.until is not None:
            return now < self.until
        return bool(self.remaining)


def limit_exceeded_reply(status: int = 403, retry_after: float | None = None) -> Reply:
    reply = error_reply(status, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    if retry_after is not None:
        reply.headers["Retry-After"] = str(int(retry_after))
    return reply


def oauth_error(code: str, description: str) -> Reply:
    return Reply(400, {"error": code, "error_description": description})


class Access:
    """Tokens and faults; the caller holds the fake's lock around every method."""

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, user_id: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.user_id = user_id
        self.tokens: set[str] = set()
        self.token_budget: int | None = None
        self.faults: deque[Fault] = deque()

    def token_grant(self, form: dict[str, str], base_url: str) -> Reply:
        """POST /services/oauth2/token with grant_type=refresh_token, as Salesforce answers."""
        if form.get("grant_type") != "refresh_token":
            return oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.client_id:
            return oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != self.client_secret:
            return oauth_error("invalid_client", "invalid client credentials")
        if form.get("refresh_token") != self.refresh_token:
            return oauth_error("invalid_grant", "expired access/refresh token")
        token = f"{ORG_ID}!{secrets.token_urlsafe(32)}"
        self.tokens.add(token)
        issued_at = str(int(time.time() * 1000))
        identity = f"{base_url}/id/{ORG_ID}/{self.user_id}"
        digest = hmac.new(
            self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        return Reply(
            200,
            {
                "access_token": token,
                "signature": base64.b64encode(digest).decode(),
                "scope": "refresh_token api",
                "instance_url": base_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_at,
            },
        )

    def authorized(self, headers: dict[str, str]) -> bool:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or token not in self.tokens:
            return False
        if self.token_budget is not None:
            self.token_budget -= 1
            if self.token_budget < 0:
                self.token_budget = None
                self.tokens.clear()
                return False
        return True

    def fault_add(self, reply: Reply, *, times: int | None, seconds: float | None) -> None:
        if (times is None) == (seconds is None):
            raise ValueError("give exactly one of times and seconds")
        until = time.monotonic() + seconds if seconds is not None else None
        self.faults.append(Fault(reply, times, until))

    def fault_next(self) -> Reply | None:
        now = time.monotonic()
        while self.faults and not self.faults[0].active(now):
            self.faults.popleft()
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault.remaining is not None:
            fault.remaining -= 1
        return fault.reply
