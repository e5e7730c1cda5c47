"""The fatigue guard's reads: per journey and template, how many messages went out in a
window and how many of them were answered by an opt-out or failed."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q

from apps.reporting.rollups.messages import CARRIER_OPT_OUT, latest_message_before
from apps.sends.models import InboundMessage, MessageOrigin, MessageStatus, OutboundMessage

ATTEMPTED = [
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
    MessageStatus.FAILED,
]
FAILED = [MessageStatus.FAILED, MessageStatus.UNDELIVERED]


@dataclass(frozen=True)
class FatigueStat:
    """Messages a journey sent with one template in [start, end), and what came of them."""

    journey_id: int
    template_id: int
    start: datetime
    messages: int
    opt_outs: int
    failures: int


def fatigue_stats(
    *,
    start: datetime,
    end: datetime,
    journey_ids: list[int],
    template_id: int | None = None,
) -> list[FatigueStat]:
    """One set-based query: messages let through in the window (by the time the gate
    queued them) that were sent or failed, the failures among them, and those the
    recipient opted out after (a STOP that answers the message, or the carrier's opt-out
    error on it)."""
    stops = (
        InboundMessage.objects.filter(keyword_kind="opt_out", received_at__gte=start)
        .annotate(mid=latest_message_before("from_address", "received_at"))
        .values("mid")
    )
    messages = OutboundMessage.objects.filter(
        origin=MessageOrigin.JOURNEY,
        journey_id__in=journey_ids,
        template_version__isnull=False,
        queued_at__gte=start,
        queued_at__lt=end,
        status__in=ATTEMPTED,
    )
    if template_id is not None:
        messages = messages.filter(template_version__template_id=template_id)
    rows = (
        messages.annotate(template=F("template_version__template_id"))
        .values("journey_id", "template")
        .annotate(
            messages=Count("id"),
            failures=Count("id", filter=Q(status__in=FAILED)),
            opt_outs=Count("id", filter=Q(pk__in=stops) | Q(error_code=CARRIER_OPT_OUT)),
        )
        .order_by("journey_id", "template")
    )
    return [
        FatigueStat(
            journey_id=row["journey_id"],
            template_id=row["template"],
            start=start,
            messages=row["messages"],
            opt_outs=row["opt_outs"],
            failures=row["failures"],
        )
        for row in rows
    ]
