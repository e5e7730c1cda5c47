from functools import update_wrapper

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from apps.core.db_router import replica_rows
from apps.core.spreadsheets import csv_lines


def permission_view(view, permission: str):
    """Signed in (else to the login page), then `permission` (else 403); never cached."""

    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return never_cache(update_wrapper(guarded, view))


def csv_response(*, filename: str, columns: list[str], rows) -> StreamingHttpResponse:
    """A spreadsheet-safe CSV download, streamed row by row, read on the replica if any."""
    response = StreamingHttpResponse(
        csv_lines(columns=columns, rows=replica_rows(rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
