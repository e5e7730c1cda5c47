"""The hosted opt-in form at /optin/<slug>/: public, CSRF-protected and rate-limited."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.consent.forms import OptInSignupForm
from apps.consent.models import OptInForm
from apps.consent.optin import optin_submit
from apps.consent.services import Evidence
from apps.core.errors import CueError
from apps.core.http import client_ip
from apps.core.ratelimit import WINDOW_SECONDS, budget_spend


@require_http_methods(["GET", "POST"])
def optin_form(request, slug: str):
    optin = _active_form(slug)
    if optin is None:
        return render(request, "consent/not_found.html", status=404)
    if request.method == "POST" and not budget_spend(
        "optin", client_ip(request), per_minute=settings.THROTTLE_OPTIN_PER_MINUTE
    ):
        response = render(request, "consent/rate_limited.html", {"optin": optin}, status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
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
