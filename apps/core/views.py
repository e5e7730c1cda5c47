from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import broker_check, database_check, worker_check


@never_cache
@require_GET
def healthz(request):
    """200 when the database and broker answer, else 503; only staff are told what is down."""
    checks = {"database": database_check(), "broker": broker_check()}
    down = [name for name, result in checks.items() if not result["ok"]]
    status = 503 if down else 200
    if not checks["database"]["ok"] or not _is_staff(request):
        # Which part is down, and the database vendor, help staff, not a stranger probing;
        # with the database down no one can be known to be staff.
        return JsonResponse({"status": "down" if down else "ok"}, status=status)
    checks["worker"] = worker_check()
    return JsonResponse({"status": "down" if down else "ok", "down": down, **checks}, status=status)


def _is_staff(request) -> bool:
    try:
        return request.user.is_active and request.user.is_staff
    except DatabaseError:  # the session or user table went away after the check
        return False
