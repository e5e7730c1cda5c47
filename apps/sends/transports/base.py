"""One interface for every way Cue sends: Twilio, email, and the local console."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    provider_sid: str
    status: str = "sent"
    price: Decimal | None = None
    price_unit: str = ""


@dataclass(frozen=True)
class ProviderMessage:
    """What the provider knows of a message, found when reconciling."""

    provider_sid: str
    status: str
    body: str


class TransportError(Exception):
    """A send failed. Only a transient error is retried; `maybe_sent` means the request may
    have reached the provider (a timeout after sending), so it is reconciled, never resent."""

    def __init__(self, message: str, *, permanent: bool, code: str = "", maybe_sent: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.maybe_sent = maybe_sent


class Transport(Protocol):
    name: str

    def send(
        self, message, *, status_callback: str, validity_seconds: int | None
    ) -> SendResult: ...

    def lookup(self, message) -> ProviderMessage | None:
        """Finds the provider's copy of a message whose send outcome is unknown."""
        ...
