"""Middleware of our own: what every request passes before any view sees it."""

from apps.core.text import NUL, querydict_storable, text_storable

SIGNED_POST = "post_signed_as_received"


def post_signed_as_received(view):
    """Marks a view that checks a signature over its POST parameters exactly as they were
    sent (Twilio's): the middleware leaves them alone, and the view makes them storable
    itself once the signature holds."""
    setattr(view, SIGNED_POST, True)
    return view


class StorableInputMiddleware:
    """Makes every public input storable (apps.core.text) before a view can store it or
    query with it: headers and cookies, the query string, form posts and URL path values.
    A JSON body is cleaned by the parser that reads it (apps.core.api.parsers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Before the session middleware reads a session key out of the cookie header.
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
                request.META[key] = value.replace(NUL, "")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.GET = querydict_storable(request.GET)
        if not getattr(view_func, SIGNED_POST, False):
            _post_storable_when_read(request)
        for key, value in view_kwargs.items():  # the same dict the view is called with
            if isinstance(value, str):
                view_kwargs[key] = text_storable(value)
        return None


def _post_storable_when_read(request) -> None:
    """Cleans request.POST when it is first read, not before: reading it here would use up
    a multipart body that a REST framework view parses (or refuses) itself."""
    if hasattr(request, "_post"):
        request._post = querydict_storable(request._post)
        return
    load = request._load_post_and_files

    def load_storable():
        load()
        request._post = querydict_storable(request._post)

    request._load_post_and_files = load_storable
