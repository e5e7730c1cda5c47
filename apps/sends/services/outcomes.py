"""What a send attempt, a status callback or a reconciliation tells us, recorded once and
only ever moving a message's status forward."""

import logging

from django.db import transaction
from django.db.models import Case, CharField, DecimalField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from apps.consent.models import Channel, ConsentSource, Suppression
from apps.consent.services import Evidence, consent_revoke_channel, suppression_add
from apps.sends.hooks import OUTCOME_STATUSES, message_outcomes_fire
from apps.sends.models import SECRET_BODY, MessageEvent, MessageStatus, OutboundMessage
from apps.sends.transports.base import SendResult, TransportError

logger = logging.getLogger(__name__)

CARRIER_OPT_OUT = "21610"
INVALID_NUMBERS = {"21211", "21614", "21612", "21408"}
MAX_ATTEMPTS = 6
_TIMESTAMP_FOR = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
    MessageStatus.UNDELIVERED: "finished_at",
    MessageStatus.FAILED: "finished_at",
}


def _lower_than(status: str) -> list[str]:
    return [s for s in MessageStatus.values if MessageStatus.rank(s) < MessageStatus.rank(status)]


def status_forward(*, message_id: int, status: str, **fields) -> bool:
    """Moves the status forward only: a late `sent` never overwrites `delivered`."""
    lower = _lower_than(status)
    stamp = _TIMESTAMP_FOR.get(status)
    if stamp:
        fields.setdefault(stamp, timezone.now())
    moved = OutboundMessage.objects.filter(pk=message_id, status__in=lower).update(
        status=status, **fields
    )
    if moved and status in OUTCOME_STATUSES:
        message_outcomes_fire([message_id])
    return bool(moved)


@transaction.atomic
def outcome_sent(*, message: OutboundMessage, result: SendResult, sender: str) -> None:
    status_forward(
        message_id=message.pk,
        status=MessageStatus.SENT,
        provider_sid=result.provider_sid,
        sender=sender,
        price=result.price,
        price_unit=result.price_unit,
        needs_reconciliation=False,
    )
    if result.status != MessageStatus.SENT:
        status_forward(message_id=message.pk, status=result.status)
    secret_erase(message)
    MessageEvent.objects.create(
        message=message,
        kind=MessageEvent.Kind.PROVIDER,
        status=MessageStatus.SENT,
        detail={"provider_sid": result.provider_sid, "provider_status": result.status},
    )


@transaction.atomic
def outcomes_sent(*, sent: list[tuple[OutboundMessage, SendResult]], sender: str) -> None:
    """outcome_sent for a batch: one UPDATE moves every message not already further on to
    sent with its provider id and price, one INSERT records the provider events."""
    if not sent:
        return
    results = {message.pk: result for message, result in sent}
    moved = list(
        OutboundMessage.objects.select_for_update()
        .filter(pk__in=results, status__in=_lower_than(MessageStatus.SENT))
        .values_list("pk", flat=True)
    )
    OutboundMessage.objects.filter(pk__in=moved).update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        sender=sender,
        needs_reconciliation=False,
        provider_sid=_per_message(results, moved, "provider_sid", CharField()),
        price=_per_message(results, moved, "price", DecimalField(max_digits=10, decimal_places=5)),
        price_unit=_per_message(results, moved, "price_unit", CharField()),
    )
    message_outcomes_fire(moved)
    for pk, result in results.items():
        if result.status != MessageStatus.SENT:
            status_forward(message_id=pk, status=result.status)
    secrets = [message.pk for message, _ in sent if message.is_secret]
    OutboundMessage.objects.filter(pk__in=secrets).update(body=SECRET_BODY)
    MessageEvent.objects.bulk_create(
        MessageEvent(
            message=message,
            kind=MessageEvent.Kind.PROVIDER,
            status=MessageStatus.SENT,
            detail={"provider_sid": result.provider_sid, "provider_status": result.status},
        )
        for message, result in sent
    )


def _per_message(results: dict[int, SendResult], ids: list[int], field: str, output_field):
    """A CASE giving each message its own value, cast to the column's type: PostgreSQL
    takes a CASE whose values are all NULL (no price yet) for text."""
    whens = [When(pk=pk, then=Value(getattr(results[pk], field))) for pk in ids]
    return Cast(Case(*whens, default=Value(None)), output_field=output_field)


@transaction.atomic
def outcome_failure(*, message: OutboundMessage, error: TransportError) -> str:
    MessageEvent.objects.create(
        message=message,
        kind=MessageEvent.Kind.ERROR,
        status=message.status,
        detail={
            "code": error.code,
            "error": str(error),
            "permanent": error.permanent,
            "maybe_sent": error.maybe_sent,
        },
    )
    if error.maybe_sent:
        OutboundMessage.objects.filter(pk=message.pk).update(
            needs_reconciliation=True, error_code=error.code, error_message=str(error)[:500]
        )
        return "reconcile"
    if error.permanent or message.attempts >= MAX_ATTEMPTS:
        return _failed(message, error)
    from apps.sends.services.dispatch import message_requeue, retry_at

    OutboundMessage.objects.filter(pk=message.pk).update(
        error_code=error.code, error_message=str(error)[:500]
    )
    transaction.on_commit(
        lambda: message_requeue(message=message, at=retry_at(message.attempts), reason="retry")
    )
    return "retry"


def secret_erase(message: OutboundMessage) -> None:
    """Once a one-time code is with the provider (or can never be), Cue keeps no copy."""
    if message.is_secret:
        OutboundMessage.objects.filter(pk=message.pk).update(body=SECRET_BODY)


def _failed(message: OutboundMessage, error: TransportError) -> str:
    secret_erase(message)
    status_forward(
        message_id=message.pk,
        status=MessageStatus.FAILED,
        error_code=error.code,
        error_message=str(error)[:500],
    )
    if error.code == CARRIER_OPT_OUT:
        _carrier_opt_out(message)
    elif error.code in INVALID_NUMBERS:
        suppression_add(
            address=message.to_address,
            reason=Suppression.Reason.INVALID_NUMBER,
            source=ConsentSource.CARRIER,
            contact=message.contact,
            note=f"Twilio error {error.code}: {error}",
        )
    return "failed"


def _carrier_opt_out(message: OutboundMessage) -> None:
    """Twilio 21610: the carrier says this number unsubscribed. Record it as evidence."""
    suppression_add(
        address=message.to_address,
        reason=Suppression.Reason.CARRIER_OPT_OUT,
        source=ConsentSource.CARRIER,
        contact=message.contact,
        note="Twilio error 21610: the recipient unsubscribed",
    )
    if message.contact is not None and message.channel == Channel.SMS:
        consent_revoke_channel(
            contact=message.contact,
            channel=Channel.SMS,
            source=ConsentSource.CARRIER,
            evidence=Evidence(note=f"Twilio error 21610 on message {message.pk}"),
        )
