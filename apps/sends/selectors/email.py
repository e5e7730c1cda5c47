"""What ESPs reported about emails Cue sent."""

from django.db.models import QuerySet

from apps.sends.models import MessageEvent, OutboundMessage
from apps.sends.services.email_events import EmailEventKind

BOUNCES = [EmailEventKind.HARD_BOUNCE.value, EmailEventKind.SOFT_BOUNCE.value]


def emails_bounced(*, messages: QuerySet[OutboundMessage]) -> bool:
    """Whether the ESP reported a bounce (hard, or soft: sent again later) for any of them."""
    return MessageEvent.objects.filter(
        message__in=messages, kind=MessageEvent.Kind.PROVIDER, detail__email_event__in=BOUNCES
    ).exists()
