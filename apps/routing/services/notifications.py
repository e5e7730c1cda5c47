"""Telling people about tasks: rows written in the routing transaction, sent after commit by
a Celery task — email always (when the rule says so), SMS to reps who turned alerts on,
through the send pipeline like every other text."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.core.queue import task_send
from apps.routing.models import NotificationKind, TaskNotification
from apps.sends.models import MessageOrigin
from apps.sends.services.messages import message_create

logger = logging.getLogger(__name__)

ENQUEUE_CHUNK = 200
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class NotificationDraft:
    task_id: int
    kind: str
    recipient_id: int
    by_email: bool = True
    by_sms: bool = True


def notifications_create(drafts: list[NotificationDraft], *, now: datetime | None = None):
    """Stores the notifications and sends them once the transaction commits."""
    if not drafts:
        return []
    now = now or timezone.now()
    rows = TaskNotification.objects.bulk_create(
        [
            TaskNotification(
                task_id=d.task_id,
                kind=d.kind,
                recipient_id=d.recipient_id,
                by_email=d.by_email,
                by_sms=d.by_sms,
                created_at=now,
            )
            for d in drafts
        ]
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: notifications_enqueue(ids))
    return ids


def notifications_enqueue(ids: list[int]) -> None:
    from apps.routing.tasks import notifications_send_task

    for start in range(0, len(ids), ENQUEUE_CHUNK):
        # lost: notifications_unsent_sweep sends them later
        task_send(notifications_send_task, ids[start : start + ENQUEUE_CHUNK])


def notifications_unsent_sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Re-enqueues notifications whose after-commit send never ran."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    ids = list(
        TaskNotification.objects.filter(sent_at=None, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    notifications_enqueue(ids)
    return len(ids)


def notification_send(*, notification_id: int) -> str:
    """Sends one notification at most once (claimed by `sent_at`); a failure hands the claim
    back so that the sweep tries again, and the SMS send key keeps that from texting twice."""
    claimed = TaskNotification.objects.filter(pk=notification_id, sent_at=None).update(
        sent_at=timezone.now()
    )
    if not claimed:
        return "already_sent"
    notification = TaskNotification.objects.select_related(
        "task__contact", "task__owner", "task__team", "recipient"
    ).get(pk=notification_id)
    try:
        sent = []
        recipient = notification.recipient
        if notification.by_email and recipient.email and recipient.is_active:
            _email_send(notification)
            sent.append("email")
        if _wants_sms(notification):
            _sms_send(notification)
            sent.append("sms")
    except Exception:
        TaskNotification.objects.filter(pk=notification_id).update(sent_at=None)
        raise
    return "+".join(sent) or "in_app"


def _wants_sms(notification: TaskNotification) -> bool:
    user = notification.recipient
    return notification.by_sms and user.sms_alerts and bool(user.phone) and user.is_active


_HEADLINES = {
    NotificationKind.ASSIGNED: "New follow-up",
    NotificationKind.QUEUED: "In the team queue",
    NotificationKind.REASSIGNED: "Reassigned to you",
    NotificationKind.WARNING: "Due soon",
    NotificationKind.BREACH: "SLA breached",
}


def notification_context(notification: TaskNotification) -> dict:
    task = notification.task
    zone = ZoneInfo(notification.recipient.time_zone)
    return {
        "notification": notification,
        "task": task,
        "headline": _HEADLINES[notification.kind],
        "due": f"{task.due_at.astimezone(zone):%a %H:%M} ({notification.recipient.time_zone})",
        "url": f"{settings.PUBLIC_BASE_URL}{reverse('routing:task', args=[task.pk])}",
    }


def _email_send(notification: TaskNotification) -> None:
    context = notification_context(notification)
    task = notification.task
    subject = f"{context['headline']}: {task.contact} — {task.reason}"[:200]
    body = render_to_string("routing/email/notification.txt", context)
    EmailMessage(subject, body, to=[notification.recipient.email]).send()


def _sms_send(notification: TaskNotification) -> None:
    context = notification_context(notification)
    task = notification.task
    body = (
        f"Cue: {context['headline']}: {task.contact} — {task.reason[:120]}. "
        f"Due {context['due']}. {context['url']}"
    )
    message = message_create(
        origin=MessageOrigin.NOTIFICATION,
        category="notification",
        recipient_user=notification.recipient,
        send_key=f"task-notify:{task.pk}:{notification.pk}",
        body=body,
    )
    TaskNotification.objects.filter(pk=notification.pk).update(sms_message_id=message.pk)
