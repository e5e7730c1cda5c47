"""One-click email unsubscribe (RFC 8058): the List-Unsubscribe link of every email.

The link carries a signed message id, never a guessable key. GET asks for confirmation
(mail scanners follow links and must not unsubscribe anyone); POST unsubscribes, whether it
comes from our page or from the mail client's one-click button.
"""

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.consent.models import Channel, ConsentSource, Suppression
from apps.consent.services import Evidence, consent_revoke_channel, suppression_add
from apps.sends.models import OutboundMessage
from apps.sends.services.messages import messages_cancel_to_address

SALT = "cue.email-unsubscribe"


def unsubscribe_url(message: OutboundMessage) -> str:
    token = signing.dumps(message.pk, salt=SALT)
    return f"{settings.PUBLIC_BASE_URL}{reverse('email-unsubscribe', args=[token])}"


def _message_for(token: str) -> OutboundMessage:
    try:
        message_id = signing.loads(token, salt=SALT)
    except signing.BadSignature as error:
        raise Http404("Unknown unsubscribe link") from error
    message = OutboundMessage.objects.select_related("contact").filter(pk=message_id).first()
    if message is None or message.channel != Channel.EMAIL:
        raise Http404("Unknown unsubscribe link")
    return message


@transaction.atomic
def email_unsubscribe(*, message: OutboundMessage, note: str) -> None:
    """Ends email for the address itself (whoever has it now or later) and the recipient's
    email consent (every purpose), and what was queued for them."""
    suppression_add(
        address=message.to_address,
        channel=Channel.EMAIL,
        reason=Suppression.Reason.EMAIL_UNSUBSCRIBE,
        source=ConsentSource.WEB_FORM,
        contact=message.contact,
        note=note[:500],
    )
    if message.contact is not None:
        consent_revoke_channel(
            contact=message.contact,
            channel=Channel.EMAIL,
            source=ConsentSource.WEB_FORM,
            evidence=Evidence(note=note[:500]),
        )
    messages_cancel_to_address(
        address=message.to_address,
        reason_code="opted_out",
        reason="The recipient unsubscribed from email.",
    )


@csrf_exempt  # mail clients' one-click POST carries no CSRF token; the signed link is the proof
@require_http_methods(["GET", "POST"])
def email_unsubscribe_view(request, token: str):
    message = _message_for(token)
    if request.method == "GET":
        return render(request, "sends/unsubscribe.html", {"address": message.to_address})
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    email_unsubscribe(
        message=message,
        note=f"{'One-click' if one_click else 'Confirmed'} unsubscribe from email {message.pk}",
    )
    return render(request, "sends/unsubscribe.html", {"address": message.to_address, "done": True})
