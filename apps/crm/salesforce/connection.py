"""One authenticated line to a Salesforce org, with Cue's policy for every call.

simple-salesforce cannot exchange a refresh token, so the connection POSTs the OAuth2
refresh-token grant itself, through the same requests session, and hands the access
token to `Salesforce(instance_url=..., session_id=...)`. Every API call then goes through
`call()`, which is where the waiting rules live:

- INVALID_SESSION_ID: refresh the token once and repeat the call; refused again ->
  CrmAuthError.
- REQUEST_LIMIT_EXCEEDED or HTTP 429: wait once (Retry-After when given, else the
  configured wait), never longer than CRM_MAX_RETRY_WAIT_SECONDS, then repeat; still
  limited, or asked for a longer wait -> CrmRateLimited, and the engine keeps its cursor.
- 5xx, timeouts, refused connections: back off and repeat a few times -> CrmUnavailable.
  A create that timed out may have been applied, so it is not repeated blindly.

The access and refresh tokens live only in memory and never reach a log or an error.
"""

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
import urllib3
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from apps.crm.adapters import CrmAuthError, CrmRateLimited, CrmUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_PATH = "/services/oauth2/token"
# Waits between attempts when Salesforce is down: three more tries over about 20 s.
UNAVAILABLE_WAITS_SECONDS = (1.0, 4.0, 16.0)
# REQUEST_LIMIT_EXCEEDED carries no Retry-After; this is how long one wait lasts then.
DEFAULT_LIMIT_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class SalesforceCredentials:
    """Where and as whom Cue connects; secrets are kept out of repr()."""

    login_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    instance_url: str = ""  # empty: the one the token endpoint names
    api_version: str = "62.0"


def error_code(error: SalesforceError) -> str:
    """The errorCode of a Salesforce error answer ("" when it carried none)."""
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", ""))
    return ""


def error_text(error: SalesforceError) -> str:
    """A short, secret-free description: 'CODE: message' of each error in the answer."""
    content = error.content
    if isinstance(content, list):
        parts = [
            f"{item.get('errorCode', 'ERROR')}: {item.get('message', '')}".strip()
            for item in content
            if isinstance(item, dict)
        ]
        if parts:
            return "; ".join(parts)
    return f"HTTP {error.status}"


def _rate_limited(error: SalesforceError) -> bool:
    return error.status == 429 or error_code(error) == "REQUEST_LIMIT_EXCEEDED"


def _never_sent(error: requests.RequestException) -> bool:
    """True when the request cannot have reached Salesforce (no connection was made)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None if absent/odd."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


class SalesforceConnection:
    def __init__(
        self,
        credentials: SalesforceCredentials,
        *,
        session: requests.Session | None = None,
        timeout: float = 20.0,
        max_retry_wait: float = 120.0,
        limit_wait: float = DEFAULT_LIMIT_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.credentials = credentials
        self.session = session or requests.Session()
        self.session.hooks["response"].append(self._response_seen)
        self.timeout = timeout
        self.max_retry_wait = max_retry_wait
        self.limit_wait = limit_wait
        self.sleep = sleep
        self.user_id = ""  # the integration user, from the token answer's identity URL
        self._client: Salesforce | None = None
        self._retry_after: str | None = None

    def __repr__(self) -> str:
        return f"SalesforceConnection({self.credentials!r})"

    def client(self) -> Salesforce:
        if self._client is None:
            self.token_refresh()
        assert self._client is not None
        return self._client

    def call(self, operation: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """Run one API call under the rules in the module docstring. Errors other than
        session, limit and availability ones reach the caller as simple-salesforce
        raised them, for it to say what they mean (a refused record, a bad query)."""
        refreshed = limited = False
        failures = 0
        while True:
            try:
                return operation(self.client())
            except SalesforceExpiredSession:
                if refreshed:
                    raise CrmAuthError(
                        "Salesforce refused the session even after a token refresh"
                    ) from None
                refreshed = True
                self.token_refresh()
            except SalesforceError as error:
                if _rate_limited(error):
                    self._limit_wait(error, already_waited=limited)
                    limited = True
                elif error.status >= 500:
                    failures = self._backoff(failures, error_text(error))
                else:
                    raise
            except requests.RequestException as error:
                if not idempotent and not _never_sent(error):
                    raise CrmUnavailable(
                        f"Salesforce did not answer a write ({type(error).__name__}); it may "
                        "have been applied, so it is not repeated"
                    ) from None
                failures = self._backoff(failures, type(error).__name__)

    def token_refresh(self) -> None:
        """Exchange the refresh token for a new access token (OAuth2 refresh_token grant)."""
        failures = 0
        while True:
            try:
                response = self._token_post()
            except requests.RequestException as error:
                failures = self._backoff(failures, f"token endpoint: {type(error).__name__}")
                continue
            if response.status_code >= 500:
                failures = self._backoff(failures, f"token endpoint: HTTP {response.status_code}")
                continue
            break
        answer = _json_or_empty(response)
        if response.status_code != 200 or "access_token" not in answer:
            raise CrmAuthError(
                "Salesforce refused Cue's refresh token: "
                f"{answer.get('error', f'HTTP {response.status_code}')}"
                f" ({answer.get('error_description', 'no description')})"
            )
        self._client_build(answer)

    def _token_post(self) -> requests.Response:
        credentials = self.credentials
        return self.session.post(
            credentials.login_url.rstrip("/") + TOKEN_PATH,
            data={
                "grant_type": "refresh_token",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "refresh_token": credentials.refresh_token,
            },
            headers={"Accept": "application/json"},
            timeout=self.timeout,
        )

    def _client_build(self, answer: dict[str, Any]) -> None:
        self.user_id = str(answer.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
        self._client = Salesforce(
            instance_url=self.credentials.instance_url or answer["instance_url"],
            session_id=answer["access_token"],
            version=self.credentials.api_version,
            session=self.session,
        )

    def _limit_wait(self, error: SalesforceError, *, already_waited: bool) -> None:
        asked = retry_after_seconds(self._retry_after)
        wait = asked if asked is not None else self.limit_wait
        if already_waited or wait > self.max_retry_wait:
            raise CrmRateLimited(
                f"Salesforce asked Cue to wait ({error_text(error)})", retry_after=wait
            )
        logger.info("Salesforce asked Cue to wait %.0f s (%s)", wait, error_code(error))
        self.sleep(wait)

    def _backoff(self, failures: int, reason: str) -> int:
        if failures >= len(UNAVAILABLE_WAITS_SECONDS):
            raise CrmUnavailable(f"Salesforce unavailable after {failures + 1} attempts: {reason}")
        wait = min(UNAVAILABLE_WAITS_SECONDS[failures], self.max_retry_wait)
        logger.info("Salesforce unavailable (%s); trying again in %.0f s", reason, wait)
        self.sleep(wait)
        return failures + 1

    def _response_seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # simple-salesforce's errors drop the headers; keep the one Cue needs.
        self._retry_after = response.headers.get("Retry-After")


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
