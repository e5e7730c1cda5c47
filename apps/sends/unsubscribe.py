"""One-click email unsubscribe (RFC 8058): the List-Unsubscribe link of every email, and
the {link:unsubscribe} in its text and HTML.

The link carries the message's signed send key (apps/sends/unsubscribe_links.py), never a
guessable key. GET asks for confirmation (mail scanners follow links and must not
unsubscribe anyone); POST unsubscribes, whether it comes from our page or from the mail
client's one-click button.
"""

from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.consent.models import Channel, ConsentSource, Suppression
from apps.consent.services import Evidence, consent_revoke_channel, suppression_add
from apps.sends.models import OutboundMessage
from apps.sends.services.messages import messages_cancel_to_address
from apps.sends.unsubscribe_links import SALT, unsubscribe_lookup, unsubscribe_url

__all__ = ["SALT", "email_unsubscribe", "email_unsubscribe_view", "unsubscribe_url"]


def _message_for(token: str) -> OutboundMessage:
    lookup = unsubscribe_lookup(token)
    if lookup is None:
        raise Http404("Unknown unsubscribe link")
    message = OutboundMessage.objects.select_related("contact").filter(**lookup).first()
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
