"""POST /webhooks/twilio/status/: delivery status callbacks."""

import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.sends.models import MessageEvent, OutboundMessage
from apps.sends.services.outcomes import status_forward
from apps.sends.transports.twilio import TWILIO_STATUS_TO_OURS
from apps.sends.webhooks.signature import twilio_signed

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@twilio_signed
def twilio_status(request):
    params = request.POST
    sid, provider_status = params.get("MessageSid", ""), params.get("MessageStatus", "")
    status = TWILIO_STATUS_TO_OURS.get(provider_status)
    message = _message_for(request.GET.get("m"), sid)
    if message is None or status is None:
        return HttpResponse(status=204)  # nothing of ours: acknowledge, change nothing
    status_callback_apply(
        message=message,
        sid=sid,
        status=status,
        params=params,
        idempotency_token=request.headers.get("I-Twilio-Idempotency-Token", ""),
    )
    return HttpResponse(status=204)


def _message_for(message_id: str | None, sid: str) -> OutboundMessage | None:
    """The message a callback is about: the one with its MessageSid. `?m=` (our id, in the
    callback URL we gave Twilio) names a message only while Cue does not know its sid yet
    (the send call timed out after Twilio took it); once a sid is stored, a callback with
    another sid is about another message and changes nothing here."""
    if not sid:
        return None
    found = OutboundMessage.objects.filter(provider_sid=sid).first()
    if found:
        return found
    if not (message_id and message_id.isdigit()):
        return None
    message = OutboundMessage.objects.filter(pk=int(message_id)).first()
    if message is not None and message.provider_sid:
        logger.warning(
            "Status callback for %s ignored: message %s was sent as %s",
            sid,
            message.pk,
            message.provider_sid,
        )
        return None
    return message


@transaction.atomic
def status_callback_apply(*, message, sid: str, status: str, params, idempotency_token: str):
    """Logs the callback once (by Twilio's idempotency token, else sid + status) and moves
    the status forward; a repeated or late callback changes nothing."""
    key = f"twilio:{idempotency_token}" if idempotency_token else f"twilio:{sid}:{status}"
    try:
        with transaction.atomic():
            MessageEvent.objects.create(
                message=message,
                kind=MessageEvent.Kind.PROVIDER,
                status=status,
                dedupe_key=key,
                detail={
                    "provider_status": params.get("MessageStatus"),
                    "error_code": params.get("ErrorCode", ""),
                },
            )
    except IntegrityError:
        return False
    fields = {}
    if params.get("ErrorCode"):
        fields["error_code"] = params["ErrorCode"][:16]
    if not message.provider_sid and sid:
        fields["provider_sid"] = sid
    return status_forward(message_id=message.pk, status=status, **fields)
