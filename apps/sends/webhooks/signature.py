from functools import wraps

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from twilio.request_validator import RequestValidator

from apps.core.http import client_ip, retry_when_database_unavailable
from apps.core.middleware import post_signed_as_received
from apps.core.ratelimit import WINDOW_SECONDS, budget_exhausted, budget_spend
from apps.core.text import querydict_storable


def twilio_public_url(request) -> str:
    """The URL Twilio signed: our public address (behind a TLS proxy the request itself
    says http://internal-host), plus the path and query string it called."""
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def twilio_signature_valid(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return validator.validate(twilio_public_url(request), request.POST.dict(), signature)


def twilio_signed(view):
    """Refuses (403, with no side effect) any request Twilio did not sign. A client whose
    requests keep being refused is turned away (429) before its signatures are even
    checked, for the rest of the minute; signed requests never count."""

    @wraps(view)
    @retry_when_database_unavailable
    def checked(request, *args, **kwargs):
        ip, budget = client_ip(request), settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE
        if budget_exhausted("webhook-refusals", ip, per_minute=budget):
            response = HttpResponse("Too many refused requests.", status=429)
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        if not twilio_signature_valid(request):
            budget_spend("webhook-refusals", ip, per_minute=budget)
            return HttpResponseForbidden("Invalid Twilio signature.")
        # Signed over the values as sent; stored as they can be (a "STOP\0" is a STOP).
        request.POST = querydict_storable(request.POST)
        return view(request, *args, **kwargs)

    return post_signed_as_received(checked)
