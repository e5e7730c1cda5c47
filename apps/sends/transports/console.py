"""Records messages locally instead of sending them: the default without Twilio credentials."""

import logging

from apps.sends.transports.base import ProviderMessage, SendResult

logger = logging.getLogger("cue.console_transport")


def phone_mask(address: str) -> str:
    return f"{'*' * max(len(address) - 4, 0)}{address[-4:]}"


class ConsoleTransport:
    name = "console"
    sender = "console"

    def send(self, message, *, status_callback: str, validity_seconds: int | None) -> SendResult:
        logger.info(
            "SMS to %s (%d chars): %s",
            phone_mask(message.to_address),
            len(message.body),
            message.body,
        )
        return SendResult(provider_sid=f"console-{message.pk}", status="delivered")

    def lookup(self, message) -> ProviderMessage | None:
        return None
