from functools import wraps

from django.conf import settings
from django.http import HttpResponseForbidden
from twilio.request_validator import RequestValidator


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
    """Refuses (403, with no side effect) any request Twilio did not sign."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not twilio_signature_valid(request):
            return HttpResponseForbidden("Invalid Twilio signature.")
        return view(request, *args, **kwargs)

    return checked
