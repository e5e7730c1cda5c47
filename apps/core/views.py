from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import broker_check, database_check, worker_check


@never_cache
@require_GET
def healthz(request):
    """200 when the database and broker answer; 503 naming what is down."""
    checks = {"database": database_check(), "broker": broker_check()}
    down = [name for name, result in checks.items() if not result["ok"]]
    if not checks["database"]["ok"]:
        checks["worker"] = {"last_seen": None}
    else:
        checks["worker"] = worker_check()
    body = {"status": "down" if down else "ok", "down": down, **checks}
    return JsonResponse(body, status=503 if down else 200)
