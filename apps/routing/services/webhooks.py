"""Outbound CRM webhooks: task and signal events as signed JSON POSTs.

A delivery row is written in the same transaction as the change it reports, and sent after
commit. Each attempt is claimed with a conditional UPDATE (and a lease, in case the worker
dies mid-request); a failure is retried with exponential backoff through `next_attempt_at`,
which the periodic sweep reads — never a long Celery countdown.

Signature: `X-Cue-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
endpoint's secret>`; receivers should also refuse a `t` more than a few minutes old.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.queue import task_send
from apps.routing.models import (
    FollowUpTask,
    TaskSignal,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_event_enqueue(*, event: str, key: str, data: dict) -> int:
    return webhook_events_enqueue([(event, key, data)])


def webhook_events_enqueue(events: list[tuple[str, str, dict]]) -> int:
    """Writes one delivery per active endpoint subscribed to each (event, key, data); sends
    after commit. `key` identifies the event, so recording it twice delivers it once."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            key=key,
            payload={"event": event, "id": key, "created_at": now.isoformat(), "data": data},
            next_attempt_at=now,
        )
        for event, key, data in events
        for endpoint in endpoints
        if event in endpoint.events
    ]
    if not deliveries:
        return 0
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    keys = list(dict.fromkeys(d.key for d in deliveries))
    transaction.on_commit(lambda: [_enqueue_key(key) for key in keys])
    return len(deliveries)


def webhook_subscribed(event: str) -> bool:
    return any(event in e.events for e in WebhookEndpoint.objects.filter(is_active=True))


def webhook_task_updates_enqueue(tasks, *, why: str) -> int:
    """task.updated for each task of a set-based change (the SLA sweep), if anyone listens."""
    if not webhook_subscribed(WebhookEvent.TASK_UPDATED):
        return 0
    rows = tasks.select_related("contact", "owner", "team")
    return webhook_events_enqueue(
        [(WebhookEvent.TASK_UPDATED, f"task.updated:{t.pk}:{why}", task_payload(t)) for t in rows]
    )


def _enqueue_key(key: str) -> None:
    from apps.routing.tasks import webhook_deliveries_send_task

    task_send(webhook_deliveries_send_task, key)  # lost: the sweep delivers it


def webhook_deliveries_send(*, key: str) -> list[str]:
    ids = WebhookDelivery.objects.filter(key=key, status=Status.PENDING, attempts=0)
    return [webhook_deliver(delivery_id=pk) for pk in ids.values_list("pk", flat=True)]


def webhook_backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: base × 2^(n−1), at most the cap."""
    base = settings.CUE_WEBHOOK_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), settings.CUE_WEBHOOK_BACKOFF_MAX))


def webhook_deliver(*, delivery_id: int) -> str:
    """One attempt, if the delivery is due and this caller wins the claim."""
    now = timezone.now()
    lease = timedelta(seconds=settings.CUE_WEBHOOK_TIMEOUT_SECONDS + 60)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease)
    if not claimed:
        return "not_due"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        _finish(delivery, Status.FAILED, None, "The endpoint was turned off.")
        return Status.FAILED
    code, error = _post(delivery)
    if code is not None and 200 <= code < 300:
        _finish(delivery, Status.DELIVERED, code, "")
        return Status.DELIVERED
    if delivery.attempts >= settings.CUE_WEBHOOK_MAX_ATTEMPTS:
        _finish(delivery, Status.FAILED, code, error)
        return Status.FAILED
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        response_code=code,
        last_error=error[:500],
        next_attempt_at=timezone.now() + webhook_backoff(delivery.attempts),
    )
    return "retry"


def _finish(delivery: WebhookDelivery, status: str, code: int | None, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        response_code=code,
        last_error=error[:500],
        next_attempt_at=None,
        delivered_at=timezone.now() if status == Status.DELIVERED else None,
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer to log, not somewhere to re-POST a signed body


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Cue-Webhooks/1",
        "X-Cue-Event": delivery.event,
        "X-Cue-Delivery": str(delivery.pk),
        "X-Cue-Signature": webhook_signature(delivery.endpoint.secret, int(time.time()), body),
    }
    request = urllib.request.Request(delivery.endpoint.url, data=body, headers=headers)
    try:
        with _opener.open(request, timeout=settings.CUE_WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}: {error.read(200).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as error:
        return None, f"{type(error).__name__}: {getattr(error, 'reason', error)}"


def webhooks_due_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempts every delivery whose next attempt is due (retries, and first attempts whose
    after-commit send never ran)."""
    from apps.routing.tasks import webhook_deliver_task

    due = WebhookDelivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now or timezone.now()
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    for pk in ids:
        webhook_deliver_task.delay(pk)
    return len(ids)


# --- Payloads ---------------------------------------------------------------------------------


def task_payload(task: FollowUpTask) -> dict:
    owner = task.owner
    return {
        "id": task.pk,
        "status": task.status,
        "priority": task.get_priority_display().lower(),
        "reason": task.reason,
        "reason_code": task.reason_code,
        "signal_type": task.signal_type,
        "intent": task.intent,
        "journey_id": task.journey_id,
        "contact": contact_payload(task.contact),
        "owner": (
            {"id": owner.pk, "username": owner.username, "email": owner.email} if owner else None
        ),
        "team": task.team.name if task.team_id else None,
        "created_at": _iso(task.created_at),
        "due_at": _iso(task.due_at),
        "first_touch_at": _iso(task.first_touch_at),
        "completed_at": _iso(task.completed_at),
        "breached_at": _iso(task.breached_at),
        "outcome": task.outcome,
        "signals": task.signal_count,
    }


def contact_payload(contact) -> dict | None:
    """Who an event is about, with the keys a receiver matches its own records by."""
    if contact is None:
        return None
    return {
        "id": contact.pk,
        "external_id": contact.external_id,
        "email": contact.email,
        "phone": str(contact.phone) if contact.phone else "",
        "name": contact.full_name,
    }


def signal_payload(signal: TaskSignal) -> dict:
    return {
        "id": signal.pk,
        "task_id": signal.task_id,
        "contact_id": signal.task.contact_id,
        "signal_type": signal.signal_type,
        "intent": signal.intent,
        "confidence": signal.confidence,
        "reason": signal.reason,
        "journey_id": signal.journey_id,
        "event_id": signal.event_id,
        "received_at": _iso(signal.received_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
