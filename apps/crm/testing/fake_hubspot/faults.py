"""The faults a test can script on the fake HubSpot, answered as HubSpot answers them."""

import math

from .http import ApiRequest, Reply, error_reply

MISSING_TOKEN_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class Faults:
    """Rate limits, 5xx, slow answers, expired tokens and refused records."""

    # Scripted faults

    def rate_limit(
        self,
        times: int | None = None,
        *,
        seconds: float | None = None,
        retry_after: int | None = 10,
    ) -> None:
        """Answer 429 (HubSpot's RATE_LIMIT body, a Retry-After header) to the next
        `times` requests, or to every request for `seconds` of the fake's clock (then
        Retry-After counts down). retry_after=None: no Retry-After header at all."""
        if (times is None) == (seconds is None):
            raise ValueError("give either times or seconds")
        with self._lock:
            self._retry_after = retry_after
            if times is not None:
                self._rate_limited_requests += times
            else:
                self._rate_limited_until = self.clock() + seconds

    def fail_next(self, status: int = 500, times: int = 1, *, after: int = 0) -> None:
        """Answer the next `times` authenticated requests with a 5xx, after letting
        `after` requests through."""
        if status < 500 or times < 1 or after < 0:
            raise ValueError(f"need a 5xx status, times >= 1, after >= 0: {status}, {times}")
        with self._lock:
            self._failures.extend([status] * times)
            self._failures_after = after

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Hold the answer to the next `times` requests (after they took effect)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def token_expire(self) -> None:
        """The access token expires: every request gets 401 until token_set()."""
        with self._lock:
            self._token_expired = True

    def token_set(self, token: str) -> None:
        with self._lock:
            self.token = token
            self._token_expired = False

    def refuse_update(self, object_type: str, record_id: str, message: str) -> None:
        """Refuse every PATCH of one record with VALIDATION_ERROR and `message`."""
        with self._lock:
            self._refusals[(self._type(object_type), int(record_id))] = message

    def _auth_refusal(self, request: ApiRequest) -> Reply | None:
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            return error_reply(401, MISSING_TOKEN_MESSAGE, "INVALID_AUTHENTICATION")
        if self._token_expired:
            return error_reply(
                401,
                "The OAuth token used to make this call expired 1 hour(s) ago.",
                "EXPIRED_AUTHENTICATION",
            )
        return None

    def _rate_limit_reply(self) -> Reply | None:
        remaining = self._rate_limited_until - self.clock()
        if self._rate_limited_requests > 0:
            self._rate_limited_requests -= 1
            wait = self._retry_after
        elif remaining > 0:
            wait = max(1, math.ceil(remaining)) if self._retry_after is not None else None
        else:
            return None
        reply = error_reply(
            429,
            "You have reached your ten_secondly_rolling limit.",
            "RATE_LIMITS",
            errorType="RATE_LIMIT",
            policyName="TEN_SECONDLY_ROLLING",
        )
        return Reply(429, reply.body, {} if wait is None else {"Retry-After": str(wait)})
