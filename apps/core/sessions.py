"""Signed-in sessions end after SESSION_IDLE_MINUTES without a request and, however busy,
SESSION_MAX_HOURS after sign-in (0 turns either off)."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse

STARTED, SEEN = "cue_session_started", "cue_session_seen"
# The last-seen time is written at most this often: not one session write per request.
SEEN_RESOLUTION_SECONDS = 60


class SessionLifetimeMiddleware:
    """After the authentication middleware: signs an expired session out and sends the user
    to sign in again (the API answers 401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and session_expired(request.session):
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Your session has ended; sign in again."}, status=401
                )
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def session_expired(session, now: float | None = None) -> bool:
    """Whether the session is past either limit; when it is not, notes that it was used."""
    now = time.time() if now is None else now
    started, seen = session.get(STARTED), session.get(SEEN)
    idle, most = settings.SESSION_IDLE_MINUTES * 60, settings.SESSION_MAX_HOURS * 3600
    if not (idle or most):
        return False
    if started is not None and ((idle and now - seen > idle) or (most and now - started > most)):
        return True
    if started is None:
        session[STARTED] = now
    if seen is None or now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now
    return False
