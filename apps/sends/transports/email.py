"""Email through Django's configured backend, with a one-click List-Unsubscribe header."""

from django.core.mail import EmailMessage

from apps.sends.transports.base import ProviderMessage, SendResult, TransportError


class EmailTransport:
    name = "email"
    sender = "email"

    def send(self, message, *, status_callback: str, validity_seconds: int | None) -> SendResult:
        from apps.sends.unsubscribe import unsubscribe_url

        unsubscribe = unsubscribe_url(message)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            to=[message.to_address],
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Cue-Message": str(message.pk),
            },
        )
        try:
            email.send(fail_silently=False)
        except OSError as error:
            raise TransportError(str(error), permanent=False, code="smtp") from error
        return SendResult(provider_sid=f"email-{message.pk}", status="sent")

    def lookup(self, message) -> ProviderMessage | None:
        return None
