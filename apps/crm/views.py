"""POST /webhooks/hubspot/: HubSpot's change notifications, signed with its v3 signature.

A notification only says "something changed"; the next incremental sync reads what, with
every rule of a sync (identity, mappings, stage times). So a valid call queues a sync of
HubSpot soon (at most one per `WEBHOOK_SYNC_SECONDS`, however many calls arrive) and
answers 200 at once, as HubSpot expects. An unsigned or stale call changes nothing (401),
and a client that keeps sending them is turned away for the rest of the minute (429).
"""

import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.http import client_ip
from apps.core.ratelimit import WINDOW_SECONDS, budget_exhausted, budget_spend
from apps.crm.connections import connection_configured
from apps.crm.hubspot.signature import hubspot_signature_valid
from apps.crm.models import System
from apps.crm.services import crm_sync_enqueue

WEBHOOK_SYNC_SECONDS = 30


@csrf_exempt
@require_POST
def hubspot_webhook(request):
    ip, budget = client_ip(request), settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE
    if budget_exhausted("webhook-refusals", ip, per_minute=budget):
        response = HttpResponse("Too many refused requests.", status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    signed = hubspot_signature_valid(
        settings.HUBSPOT_WEBHOOK_SECRET,
        request.method,
        f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}",
        request.body,
        request.headers.get("X-HubSpot-Request-Timestamp"),
        request.headers.get("X-HubSpot-Signature-v3"),
        timezone.now(),
    )
    if not signed:
        budget_spend("webhook-refusals", ip, per_minute=budget)
        return HttpResponse("Invalid or expired HubSpot signature.", status=401)
    try:
        events = json.loads(request.body or b"[]")
    except ValueError:
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    if not isinstance(events, list):
        return JsonResponse({"error": "HubSpot sends a JSON array of events."}, status=400)
    queued = bool(events) and connection_configured(System.HUBSPOT) and _sync_due()
    if queued:
        crm_sync_enqueue(system=System.HUBSPOT)
    return JsonResponse({"received": len(events), "sync_queued": queued})


def _sync_due() -> bool:
    """True for the first call in each window: one sync reads every change it announced."""
    return cache.add("crm:hubspot:webhook-sync", 1, timeout=WEBHOOK_SYNC_SECONDS)
