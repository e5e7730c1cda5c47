"""SMS through the real twilio client (optionally pointed at another base URL)."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from urllib3.exceptions import NewConnectionError

from apps.sends.senders import SenderKind
from apps.sends.transports.base import ProviderMessage, SendResult, TransportError
from apps.sends.transports.http import twilio_client_build

SEND_THREADS = 8  # provider calls one dispatch task makes at once (apps.sends.services.dispatch)

# Twilio answers these for a request it will never accept, however often it is sent.
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
TWILIO_STATUS_TO_OURS = {
    "accepted": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "scheduled": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "read": "delivered",
}


class TwilioTransport:
    name = "twilio"
    calls_in_threads = True  # a send touches no database: dispatch may make several at once

    def __init__(self, sender=None):
        self.from_sender = sender  # a Sender row; None: the environment's (TWILIO_*)
        self.client = _client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_API_BASE_URL or None,
            settings.TWILIO_TIMEOUT_SECONDS,
        )

    @property
    def sender(self) -> str:
        """The address texts go from, which is also its pacing key."""
        if self.from_sender is not None:
            return self.from_sender.address
        return settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER

    def _origin(self) -> tuple[str, str]:
        """(Messaging Service SID, from number): one of them is set."""
        if self.from_sender is None:
            return settings.TWILIO_MESSAGING_SERVICE_SID, settings.TWILIO_FROM_NUMBER
        if self.from_sender.kind == SenderKind.MESSAGING_SERVICE:
            return self.from_sender.address, ""
        return "", self.from_sender.address

    def send(self, message, *, status_callback: str, validity_seconds: int | None) -> SendResult:
        params = {
            "to": message.to_address,
            "body": message.body,
            "status_callback": status_callback,
        }
        service_sid, from_number = self._origin()
        if service_sid:
            params["messaging_service_sid"] = service_sid
            if validity_seconds:
                # Twilio drops a queued message once this runs out, so it never lands in
                # quiet hours (ValidityPeriod needs a Messaging Service).
                params["validity_period"] = validity_seconds
        else:
            params["from_"] = from_number
        created = self._call(lambda: self.client.messages.create(**params))
        return SendResult(
            provider_sid=created.sid,
            status=TWILIO_STATUS_TO_OURS.get(created.status, "sent"),
            price=_decimal(created.price),
            price_unit=created.price_unit or "",
        )

    def lookup(self, message) -> ProviderMessage | None:
        """Twilio's message resource carries nothing of ours, so our message is the
        newest one to the same number with the same body, created since our claim, that
        no other message of ours has already been matched to. Listed by recipient, not by
        DateSent: a message still queued at Twilio has no date sent yet."""
        since = (message.claimed_at or message.created_at) - timedelta(minutes=1)
        found = self._call(lambda: self.client.messages.list(to=message.to_address, limit=50))
        candidates = [
            c for c in found if c.body == message.body and (c.date_created or since) >= since
        ]
        taken = set(
            type(message)
            .objects.filter(provider_sid__in=[c.sid for c in candidates])
            .exclude(pk=message.pk)
            .values_list("provider_sid", flat=True)
        )
        for candidate in candidates:
            if candidate.sid not in taken:
                status = TWILIO_STATUS_TO_OURS.get(candidate.status, "sent")
                return ProviderMessage(candidate.sid, status, candidate.body)
        return None

    def _call(self, request):
        try:
            return request()
        except TwilioRestException as error:
            permanent = error.status not in TRANSIENT_STATUSES
            code = str(error.code or error.status)
            raise TransportError(str(error.msg), permanent=permanent, code=code) from error
        except requests.RequestException as error:
            if _never_sent(error):
                raise TransportError(
                    "Twilio could not be reached", permanent=False, code="connection"
                ) from error
            # The request may have reached Twilio: reconcile, never resend blindly.
            raise TransportError(
                "No answer from Twilio after sending",
                permanent=False,
                code="timeout",
                maybe_sent=True,
            ) from error


@lru_cache(maxsize=4)
def _client(account_sid: str, auth_token: str, base_url: str | None, timeout: float):
    """One client per process and account, reused by every send: its HTTP session keeps
    connections to Twilio open (a pool as large as dispatch's threads) instead of a new
    client, session and TLS handshake per message."""
    return twilio_client_build(
        account_sid=account_sid,
        auth_token=auth_token,
        base_url=base_url,
        timeout=timeout,
        pool_size=SEND_THREADS,
    )


def _never_sent(error: requests.RequestException) -> bool:
    """True only when the connection was never made, so Twilio cannot have the request."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(value) if value is not None else None
    except InvalidOperation:
        return None
