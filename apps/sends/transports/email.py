"""Email through Django's configured backend: an ESP through django-anymail (ANYMAIL_ESP), or
SMTP / the console (EMAIL_URL). Every email carries a one-click List-Unsubscribe header and
Cue's message id as ESP metadata, which the ESP's tracking webhooks hand back, and its own
unguessable Message-ID, which a reply names (apps.sends.email_ids); one made from a template
with an HTML part carries the part stored on the message as the text/html alternative."""

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from apps.accounts.selectors import brand_current
from apps.sends.email_ids import email_message_id
from apps.sends.services.messages import message_html
from apps.sends.transports.base import ProviderMessage, SendResult, TransportError
from apps.sends.unsubscribe_links import unsubscribe_url

# An ESP that answers these is busy or broken for now; any other answer is about the email.
TRANSIENT_HTTP_STATUSES = {408, 429, 500, 502, 503, 504}
METADATA_KEY = "cue_message"


class EmailTransport:
    name = "email"
    sender = "email"

    def send(self, message, *, status_callback: str, validity_seconds: int | None) -> SendResult:
        email = _email_for(message)
        try:
            email.send(fail_silently=False)
        except AnymailRecipientsRefused as error:
            raise TransportError(str(error), permanent=True, code="email_refused") from error
        except AnymailAPIError as error:
            raise _api_error(error) from error
        except (AnymailError, OSError) as error:
            raise TransportError(str(error), permanent=False, code="smtp") from error
        return SendResult(provider_sid=_provider_id(email, message), status="sent")

    def lookup(self, message) -> ProviderMessage | None:
        return None


def _email_for(message) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(send_key=message.send_key)
    email = EmailMultiAlternatives(
        from_email=brand_current().email_from(settings.DEFAULT_FROM_EMAIL),
        subject=message.subject,
        body=message.body,
        to=[message.to_address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Cue-Message": str(message.pk),
            "Message-ID": email_message_id(pk=message.pk, send_key=message.send_key),
        },
    )
    email.metadata = {METADATA_KEY: str(message.pk)}  # anymail's ESP metadata; SMTP ignores it
    html = message_html(message)
    if html:
        email.attach_alternative(html, "text/html")
    return email


def _provider_id(email: EmailMultiAlternatives, message) -> str:
    """The ESP's id for the email (its webhooks name it), or Cue's own for SMTP."""
    status = getattr(email, "anymail_status", None)
    return (status and status.message_id) or f"email-{message.pk}"


def _api_error(error: AnymailAPIError) -> TransportError:
    status = getattr(error, "status_code", None)
    transient = status is None or status in TRANSIENT_HTTP_STATUSES
    return TransportError(str(error)[:500], permanent=not transient, code=f"esp_{status or 'io'}")
