"""The OpenAPI schema and its UI: for signed-in users, unless API_DOCS_PUBLIC says otherwise.

The schema names every field Cue stores about a person and every write the API takes: a
map worth keeping from anonymous callers by default."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission


class DocsReadable(BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    """401 to an anonymous caller: API clients sign in with their token or session."""

    permission_classes = [DocsReadable]


class DocsView(SpectacularSwaggerSplitView):
    """The Swagger UI, its script served from its own URL (no inline script under the CSP).
    An anonymous browser is sent to the sign-in page and back."""

    permission_classes = [DocsReadable]

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
