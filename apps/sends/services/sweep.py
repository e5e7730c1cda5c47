"""The periodic sweep: releases deferred messages whose time has come, gates held messages
again once their contact changed and expires those held too long, re-enqueues queued ones
whose enqueue was lost or whose retry is due, reconciles sends whose outcome is unknown, and
hands on stored replies whose hand-off was lost. Stored times, not long Celery countdowns,
carry the schedule."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from apps.sends.models import MessageEvent, MessageStatus, OutboundMessage
from apps.sends.services.inbound import inbound_unhandled_hand_on
from apps.sends.services.messages import contact_lock, message_gate, messages_cancel
from apps.sends.services.outcomes import outcome_sent
from apps.sends.transports import transport_for
from apps.sends.transports.base import SendResult, TransportError

logger = logging.getLogger(__name__)

BATCH = 500
LOST_ENQUEUE_AFTER = timedelta(minutes=2)
IN_FLIGHT_TOO_LONG = timedelta(minutes=5)
RECONCILE_GRACE = timedelta(minutes=10)
HELD_EXPIRED = "held_expired"


def messages_sweep() -> dict[str, int]:
    return {
        "released": _deferred_release(),
        "held expired": _held_expire(),
        "held gated again": _held_regate(),
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


def message_release(*, message_id: int) -> bool:
    """Gates a deferred message again now; it is queued, deferred anew or suppressed."""
    return _gate_again(message_id, MessageStatus.DEFERRED, stage="release")


def _held_expire() -> int:
    """A message held for an unknown zone or country is never left waiting forever: once
    older than CUE_HELD_MESSAGE_EXPIRY_HOURS it ends, and a journey waiting on it moves on."""
    hours = settings.CUE_HELD_MESSAGE_EXPIRY_HOURS
    cutoff = timezone.now() - timedelta(hours=hours)
    ids = OutboundMessage.objects.filter(
        status=MessageStatus.HELD, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:BATCH]
    return messages_cancel(
        queryset=OutboundMessage.objects.filter(pk__in=list(ids)),
        reason_code=HELD_EXPIRED,
        reason=f"Held for more than {hours} h without a known time zone or sending rule; expired.",
    )


def _held_regate() -> int:
    """Held messages whose contact changed (zone, address, country, phone) since the gate
    last decided on them are gated again: fixing the contact releases them."""
    decided_at = Subquery(
        MessageEvent.objects.filter(message_id=OuterRef("pk"), kind=MessageEvent.Kind.DECISION)
        .order_by("-at")
        .values("at")[:1]
    )
    ids = (
        OutboundMessage.objects.filter(status=MessageStatus.HELD, contact__isnull=False)
        .annotate(decided_at=decided_at)
        .filter(Q(decided_at=None) | Q(contact__updated_at__gt=F("decided_at")))
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(message_held_regate(message_id=pk) for pk in list(ids))


def message_held_regate(*, message_id: int) -> bool:
    """Gates a held message again now; it is queued, deferred, held anew or suppressed."""
    return _gate_again(message_id, MessageStatus.HELD, stage="regate")


@transaction.atomic
def _gate_again(message_id: int, status: str, *, stage: str) -> bool:
    contact_id = (
        OutboundMessage.objects.filter(pk=message_id).values_list("contact_id", flat=True).first()
    )
    contact_lock(contact_id)
    message = (
        OutboundMessage.objects.select_related("contact")
        .filter(pk=message_id, status=status)
        .first()
    )
    if message is None:
        return False
    message_gate(message=message, at=timezone.now(), stage=stage)
    return True


def _queued_enqueue() -> int:
    """Queued messages that are due and have no live dispatch task: their enqueue was lost,
    or their task expired unrun. One waiting in a long queue is left to its task."""
    from apps.sends.services.dispatch import messages_enqueue

    now = timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(
        next_attempt_at=None, queued_at__lt=now - LOST_ENQUEUE_AFTER
    )
    no_live_task = Q(dispatch_task_expires_at=None) | Q(dispatch_task_expires_at__lt=now)
    ids = list(
        OutboundMessage.objects.filter(due, no_live_task, status=MessageStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    return messages_enqueue(message_ids=ids)


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
