"""Dispatch: claim by conditional UPDATE, gate again under the contact lock, pace, call the
transport once, and record what happened. A send whose outcome is unknown is reconciled
with the provider, never sent again blindly."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.sends.models import Decision, MessageEvent, MessageStatus, OutboundMessage
from apps.sends.policy import gate_evaluate, quiet_hours_cover
from apps.sends.quiet_hours import Recipient, recipient_validity_seconds
from apps.sends.services.messages import contact_lock, decision_apply
from apps.sends.services.outcomes import outcome_failure, outcome_sent
from apps.sends.services.pacing import pace_slot_claim
from apps.sends.transports import transport_for
from apps.sends.transports.base import TransportError

logger = logging.getLogger(__name__)

MAX_PACING_SLEEP = 2.0


def message_dispatch(*, message_id: int) -> str:
    """Sends one queued message at most once. Returns what happened, for logs and tests."""
    message = _claim(message_id)
    if message is None:
        return "not_claimed"
    if message.status != MessageStatus.SENDING:
        return message.status
    transport = transport_for(message)
    if not _paced(message, transport.sender):
        return "repaced"
    try:
        result = transport.send(
            message, status_callback=_status_callback(message), validity_seconds=_validity(message)
        )
    except TransportError as error:
        return outcome_failure(message=message, error=error)
    outcome_sent(message=message, result=result, sender=transport.sender)
    return "sent"


@transaction.atomic
def _claim(message_id: int) -> OutboundMessage | None:
    """queued → sending, only for the caller that wins; the gate runs again in the same
    transaction, so a STOP that landed since creation wins."""
    contact_id = (
        OutboundMessage.objects.filter(pk=message_id).values_list("contact_id", flat=True).first()
    )
    contact_lock(contact_id)
    now = timezone.now()
    won = OutboundMessage.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not won:
        return None
    message = OutboundMessage.objects.select_related("contact", "template_version").get(
        pk=message_id
    )
    result = gate_evaluate(message=message, at=now)
    if result.decision != Decision.ALLOW:
        decision_apply(message=message, result=result, at=now, stage="dispatch")
    else:
        MessageEvent.objects.create(
            message=message,
            kind=MessageEvent.Kind.TRANSITION,
            status=MessageStatus.SENDING,
            detail={"attempt": message.attempts, "gate": "allowed at dispatch"},
        )
    return message


def _paced(message: OutboundMessage, sender: str) -> bool:
    slot = pace_slot_claim(sender=sender, max_wait=MAX_PACING_SLEEP)
    wait = (slot.at - timezone.now()).total_seconds()
    if slot.claimed:
        if wait > 0:
            time.sleep(wait)
        return True
    # No call was made: the claim's attempt is given back, so that pacing never uses up
    # the attempts (MAX_ATTEMPTS) or lengthens the backoff meant for provider errors.
    message_requeue(message=message, at=slot.at, reason="paced", attempted=False)
    return False


def message_requeue(*, message: OutboundMessage, at, reason: str, attempted: bool = True) -> None:
    """Hands a claimed message back to the queue: a short countdown brings it back near
    `at`, and the sweep catches it if that enqueue is lost."""
    from apps.sends.tasks import message_dispatch_task

    uncount = {} if attempted else {"attempts": F("attempts") - 1}
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED, next_attempt_at=at, **uncount
        )
        MessageEvent.objects.create(
            message=message,
            kind=MessageEvent.Kind.TRANSITION,
            status=MessageStatus.QUEUED,
            detail={"reason": reason, "next_attempt_at": at.isoformat()},
        )
    countdown = max(0.0, min((at - timezone.now()).total_seconds(), 60.0))
    try:
        message_dispatch_task.apply_async((message.pk,), countdown=countdown)
    except Exception:  # broker down: the sweep re-enqueues it when due
        logger.warning("Re-enqueue of message %s left to the sweep", message.pk, exc_info=True)


def _status_callback(message: OutboundMessage) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('twilio-status')}?m={message.pk}"


def _validity(message: OutboundMessage) -> int | None:
    """Twilio's ValidityPeriod: the same recipient window the gate just allowed, so a text
    still queued at Twilio when the window closes fails instead of landing in quiet time."""
    if not quiet_hours_cover(message):
        return None
    recipient = Recipient.of(message.contact, message.to_address)
    return recipient_validity_seconds(recipient=recipient, at=timezone.now())


def retry_at(attempts: int):
    """Exponential backoff for transient errors: 30 s, 1 min, 2 min, … capped at 30 min."""
    return timezone.now() + timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))
