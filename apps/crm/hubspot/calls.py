"""Every call Cue makes to HubSpot goes through `HubSpotCaller.call`: a timeout on each,
the waits HubSpot asks for, backoff on its outages, and errors in Cue's terms.

Reads ask the client for the raw response (`_preload_content=False`) and decode the JSON
here: the client's generated models cost about half a millisecond per record, which a
full sync of 100,000 contacts would spend for nothing. The client still builds every
request (URL, query, auth) and raises its own exceptions for every status.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.objects.exceptions import ApiException as ObjectsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
from hubspot.crm.pipelines.exceptions import ApiException as PipelinesApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from apps.crm.adapters import (
    CrmAuthError,
    CrmRateLimited,
    CrmRecordRefused,
    CrmUnavailable,
)

logger = logging.getLogger(__name__)

API_EXCEPTIONS = (
    AssociationsApiException,
    ObjectsApiException,
    OwnersApiException,
    PipelinesApiException,
    PropertiesApiException,
)
# HubSpot's limits roll over ten seconds; it does not always say how long to wait.
DEFAULT_RETRY_AFTER_SECONDS = 10.0
TRANSIENT_RETRIES = 3
BACKOFF_FIRST_SECONDS = 1.0


@dataclass(frozen=True)
class HubSpotFailure:
    """What HubSpot answered instead of a result: status, message, Retry-After."""

    status: int
    message: str
    retry_after: float | None


class HubSpotCaller:
    """Runs one client call with Cue's timeout, waits and retries.

    A 429 is waited out as long as the waits of this one call stay within
    `max_retry_wait` seconds; then CrmRateLimited. A 5xx, a timeout or a refused
    connection is retried after 1, 2 and 4 seconds; then CrmUnavailable. A 401 or 403 is
    CrmAuthError, any other 4xx CrmRecordRefused with HubSpot's message.
    """

    def __init__(self, *, timeout: float, max_retry_wait: float, sleep: Callable[[float], None]):
        self.timeout = timeout
        self.max_retry_wait = max_retry_wait
        self.sleep = sleep

    def call(
        self,
        what: str,
        method: Callable[..., Any],
        *args: Any,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Call a client method and answer the decoded JSON of its response.

        A create is not idempotent: HubSpot has no idempotency key, and a create that timed
        out or failed with a 5xx may have been stored, so it is not repeated blindly
        (CrmUnavailable says so). Only a 429 or a connection never made is retried.
        """
        waited = 0.0
        transient_failures = 0
        while True:
            never_sent = False
            try:
                response = method(
                    *args, _request_timeout=self.timeout, _preload_content=False, **kwargs
                )
                return _json(response.data)
            except API_EXCEPTIONS as error:
                failure = _failure(error)
            except urllib3.exceptions.HTTPError as error:
                failure = HubSpotFailure(0, _transport_message(error, self.timeout), None)
                never_sent = _never_sent(error)
            if failure.status == 429:
                wait = failure.retry_after or DEFAULT_RETRY_AFTER_SECONDS
                if waited + wait > self.max_retry_wait:
                    raise CrmRateLimited(f"HubSpot rate limit on {what}: {failure.message}", wait)
                logger.info("HubSpot asked to wait %.0fs during %s", wait, what)
                self.sleep(wait)
                waited += wait
                continue
            _raise_if_permanent(what, failure)
            if not idempotent and not never_sent:
                raise CrmUnavailable(
                    f"HubSpot did not confirm {what} ({failure.message}); it may have been "
                    "stored, so it is not repeated"
                )
            transient_failures += 1
            if transient_failures > TRANSIENT_RETRIES:
                raise CrmUnavailable(f"HubSpot unavailable during {what}: {failure.message}")
            self.sleep(BACKOFF_FIRST_SECONDS * 2 ** (transient_failures - 1))


def _raise_if_permanent(what: str, failure: HubSpotFailure) -> None:
    if failure.status in (401, 403):
        raise CrmAuthError(
            f"HubSpot refused the access token ({failure.status}): {failure.message}"
        )
    if 400 <= failure.status < 500:
        raise CrmRecordRefused(failure.message)


def _json(data: bytes | str) -> Any:
    return json.loads(data) if data else None


def _failure(error: Exception) -> HubSpotFailure:
    status = int(getattr(error, "status", 0) or 0)
    body = getattr(error, "body", None)
    headers = getattr(error, "headers", None) or {}
    message = getattr(error, "reason", None) or f"HTTP {status}"
    try:
        decoded = _json(body) if body else None
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("message"):
        message = str(decoded["message"])
    return HubSpotFailure(status, message, _retry_after(headers))


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _never_sent(error: Exception) -> bool:
    """A connection that was never made carried no request: repeating it is safe."""
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    return isinstance(error, urllib3.exceptions.NewConnectionError)


def _transport_message(error: Exception, timeout: float) -> str:
    # urllib3's own text names the URL and pool; enough to say what kind of failure it was.
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2; a refusal is no timeout.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return f"connection failed ({type(error).__name__})"
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return f"no answer within {timeout:g}s"
    return f"connection failed ({type(error).__name__})"
