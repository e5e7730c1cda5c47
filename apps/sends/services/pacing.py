"""Pacing: each send claims the next free slot of its sender's schedule, shared by every
worker through one database row, so the achieved rate is the configured one."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.sends.models import SenderPace
from apps.sends.selectors.senders import sender_mps


def sender_rate(sender: str) -> float:
    """Messages per second for a pacing key: a sender row's MPS, read at each use so an
    edit in the admin holds at once; the environment's sender (no row) at CUE_SEND_RATES."""
    mps = sender_mps(sender)
    if mps is not None:
        return float(mps)
    rates = settings.CUE_SEND_RATES
    return float(rates.get(sender, rates["default"]))


@dataclass(frozen=True)
class PaceSlot:
    at: datetime
    claimed: bool


@transaction.atomic
def pace_slot_claim(*, sender: str, max_wait: float, at: datetime | None = None) -> PaceSlot:
    """Claims the sender's next free slot if it comes within `max_wait` seconds; otherwise
    claims nothing (a slot claimed but not used would lower the achieved rate)."""
    now = at or timezone.now()
    SenderPace.objects.get_or_create(sender=sender, defaults={"next_slot_at": now})
    pace = SenderPace.objects.select_for_update().get(sender=sender)
    slot = max(pace.next_slot_at, now)
    if (slot - now).total_seconds() > max_wait:
        return PaceSlot(slot, claimed=False)
    pace.next_slot_at = slot + timedelta(seconds=1 / sender_rate(sender))
    pace.save(update_fields=["next_slot_at"])
    return PaceSlot(slot, claimed=True)
