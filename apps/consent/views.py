"""The hosted opt-in form at /optin/<slug>/: public, CSRF-protected and rate-limited."""

from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.consent.forms import OptInSignupForm
from apps.consent.models import OptInForm
from apps.consent.optin import optin_submit
from apps.consent.services import Evidence
from apps.core.errors import CueError
from apps.core.http import client_ip

OPTIN_SUBMISSIONS_PER_MINUTE = 10


def submission_allowed(ip: str | None) -> bool:
    """Counts this submission against the IP's budget for the current minute."""
    key = f"optin:rate:{ip or 'unknown'}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count <= OPTIN_SUBMISSIONS_PER_MINUTE


@require_http_methods(["GET", "POST"])
def optin_form(request, slug: str):
    optin = _active_form(slug)
    if optin is None:
        return render(request, "consent/not_found.html", status=404)
    if request.method == "POST" and not submission_allowed(client_ip(request)):
        response = render(request, "consent/rate_limited.html", {"optin": optin}, status=429)
        response["Retry-After"] = "60"
        return response
    signup = OptInSignupForm(request.POST or None, optin_form=optin)
    if request.method == "POST" and signup.is_valid():
        try:
            optin_submit(optin=optin, data=signup.cleaned_data, evidence=_evidence(request, optin))
        except CueError as error:
            field = error.field if error.field in signup.fields else None
            signup.add_error(field, error.message)
        else:
            return redirect("optin:thanks", slug=optin.slug)
    status = 400 if signup.is_bound else 200
    return render(
        request, "consent/optin_form.html", {"optin": optin, "form": signup}, status=status
    )


@require_http_methods(["GET"])
def optin_thanks(request, slug: str):
    optin = _active_form(slug)
    if optin is None:
        return render(request, "consent/not_found.html", status=404)
    return render(request, "consent/optin_thanks.html", {"optin": optin})


def _active_form(slug: str) -> OptInForm | None:
    return OptInForm.objects.select_related("disclosure").filter(slug=slug, is_active=True).first()


def _evidence(request, optin: OptInForm) -> Evidence:
    return Evidence(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        page_url=request.build_absolute_uri()[:500],
        disclosure=optin.disclosure,
        disclosure_text=optin.disclosure.text,
        form=optin,
    )
