"""The periodic sweep: releases deferred messages whose time has come, re-enqueues queued
ones whose enqueue was lost or whose retry is due, reconciles sends whose outcome is
unknown, and hands on stored replies whose hand-off was lost. Stored times, not long
Celery countdowns, carry the schedule."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.sends.models import MessageStatus, OutboundMessage
from apps.sends.services.inbound import inbound_unhandled_hand_on
from apps.sends.services.messages import _enqueue, contact_lock, message_gate
from apps.sends.services.outcomes import outcome_sent
from apps.sends.transports import transport_for
from apps.sends.transports.base import SendResult, TransportError

logger = logging.getLogger(__name__)

BATCH = 500
LOST_ENQUEUE_AFTER = timedelta(minutes=2)
IN_FLIGHT_TOO_LONG = timedelta(minutes=5)
RECONCILE_GRACE = timedelta(minutes=10)


def messages_sweep() -> dict[str, int]:
    return {
        "released": _deferred_release(),
        "enqueued": _queued_enqueue(),
        "reconciled": _in_flight_reconcile(),
        "replies handed on": inbound_unhandled_hand_on(),
    }


def _deferred_release() -> int:
    now = timezone.now()
    ids = OutboundMessage.objects.filter(
        status=MessageStatus.DEFERRED, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:BATCH]
    return sum(message_release(message_id=pk) for pk in ids)


@transaction.atomic
def message_release(*, message_id: int) -> bool:
    """Gates a deferred message again now; it is queued, deferred anew or suppressed."""
    contact_id = (
        OutboundMessage.objects.filter(pk=message_id).values_list("contact_id", flat=True).first()
    )
    contact_lock(contact_id)
    message = (
        OutboundMessage.objects.select_related("contact")
        .filter(pk=message_id, status=MessageStatus.DEFERRED)
        .first()
    )
    if message is None:
        return False
    message_gate(message=message, at=timezone.now(), stage="release")
    return True


def _queued_enqueue() -> int:
    now = timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(
        next_attempt_at=None, queued_at__lt=now - LOST_ENQUEUE_AFTER
    )
    ids = list(
        OutboundMessage.objects.filter(due, status=MessageStatus.QUEUED).values_list(
            "pk", flat=True
        )[:BATCH]
    )
    for pk in ids:
        _enqueue(pk)
    return len(ids)


def _in_flight_reconcile() -> int:
    stale = timezone.now() - IN_FLIGHT_TOO_LONG
    ids = OutboundMessage.objects.filter(
        Q(needs_reconciliation=True) | Q(claimed_at__lt=stale), status=MessageStatus.SENDING
    ).values_list("pk", flat=True)[:BATCH]
    return sum(message_reconcile(message_id=pk) != "waiting" for pk in ids)


def message_reconcile(*, message_id: int) -> str:
    """Asks the provider whether it has this message; records it if so, queues it again if
    the grace period passed without it (the request never arrived), else waits."""
    message = OutboundMessage.objects.filter(pk=message_id, status=MessageStatus.SENDING).first()
    if message is None:
        return "settled"
    transport = transport_for(message)
    try:
        found = transport.lookup(message)
    except TransportError:
        logger.warning("Reconciliation of message %s failed; will retry", message_id, exc_info=True)
        return "waiting"
    if found is not None:
        outcome_sent(
            message=message,
            result=SendResult(found.provider_sid, found.status),
            sender=transport.sender,
        )
        return "found"
    if message.claimed_at and message.claimed_at < timezone.now() - RECONCILE_GRACE:
        from apps.sends.services.dispatch import message_requeue

        message_requeue(message=message, at=timezone.now(), reason="not at the provider")
        return "requeued"
    return "waiting"
