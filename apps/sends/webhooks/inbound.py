"""POST /webhooks/twilio/inbound/: a text someone sent to one of our numbers."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.sends.services.inbound import InboundText, inbound_receive
from apps.sends.webhooks.signature import twilio_signed

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
@twilio_signed
def twilio_inbound(request):
    params = request.POST
    sid, sender = params.get("MessageSid", ""), params.get("From", "")
    if not sid or not sender:
        return HttpResponse("MessageSid and From are required.", status=400)
    inbound_receive(
        text=InboundText(
            sid=sid[:64],
            from_address=sender[:32],
            to_address=params.get("To", "")[:32],
            body=params.get("Body", ""),
            messaging_service_sid=params.get("MessagingServiceSid", "")[:34],
        )
    )
    # Replies go out through the send pipeline (gated, logged), not as TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
