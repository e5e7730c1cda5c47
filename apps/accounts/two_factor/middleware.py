from urllib.parse import quote

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from apps.accounts.two_factor.selectors import two_factor_step_owed

# Reachable before the second factor: the pages that ask for it, signing out, static files
# and the load balancer's health check.
OPEN_PREFIXES = ("/account/two-factor/", "/admin/logout/", "/tasks/sign-out/", "/static/")
OPEN_PATHS = ("/healthz",)
# Answered with a JSON 403 rather than sent to a page (the API docs page is a page).
API_PREFIXES = ("/api/v1/", "/api/schema/")


class TwoFactorRequiredMiddleware:
    """A signed-in user who owes a second-factor step (selectors.two_factor_step_owed) is
    sent to it, with ?next= back, before any other page; the API answers 403. A caller with
    an API token is not signed in through the session and is not asked (tokens are their own
    credential: they expire and can be revoked)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or _is_open(request.path):
            return self.get_response(request)
        step = two_factor_step_owed(user)
        if step is None:
            return self.get_response(request)
        if request.path.startswith(API_PREFIXES):
            return JsonResponse({"detail": "Two-factor sign-in is needed first."}, status=403)
        return redirect(f"{reverse(f'two_factor:{step}')}?next={quote(request.get_full_path())}")


def _is_open(path: str) -> bool:
    return path.startswith(OPEN_PREFIXES) or path in OPEN_PATHS
