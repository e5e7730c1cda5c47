"""Pacing: each send takes the next free slot of its sender's schedule, shared by every
worker, so the achieved rate is the configured one. With Redis at hand the schedule lives
there (one atomic script per batch, no row lock); otherwise in one database row per sender.
A batch takes all its slots in one step."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.sends.models import SenderPace
from apps.sends.selectors.senders import sender_mps

# KEYS[1]: the sender's next free slot (epoch seconds). ARGV: now, interval, count, max_wait,
# max_lead. Takes as many of `count` consecutive slots as begin within max_wait, none when
# the first begins later than max_lead; answers the first slot and how many were taken.
# The key expires a minute after its slot has passed.
_TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local max_lead = tonumber(ARGV[5])
local first = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if first < now then first = now end
local fit = math.floor((max_wait - (first - now)) / interval + 1e-9) + 1
if first - now > max_lead + 1e-9 then fit = 0 end
local taken = math.max(0, math.min(count, fit))
if taken > 0 then
  local after = first + taken * interval
  local ttl = math.ceil((after - now) * 1000) + 60000
  redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', ttl)
end
return {string.format('%.6f', first), taken}
"""


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


@dataclass(frozen=True)
class PaceSlots:
    """The slots taken, in order, and when the first slot not taken begins."""

    taken: list[datetime]
    next_free_at: datetime


def pace_slots_take(
    *,
    sender: str,
    rate: float,
    count: int,
    max_wait: float,
    max_lead: float | None = None,
    at: datetime | None = None,
) -> PaceSlots:
    """Takes up to `count` consecutive slots of `sender`'s schedule at `rate` per second,
    only those that begin within `max_wait` seconds (a slot taken but not used would lower
    the achieved rate), and none when the first free one begins later than `max_lead`
    seconds (a caller would hold a worker to wait for a few slots at the end of another's).
    Callers with senders of their own pass their key and rate."""
    now = at or timezone.now()
    interval = 1 / rate
    lead = max_wait if max_lead is None else max_lead
    if settings.CUE_PACING_REDIS_URL:
        first, taken = _redis_take(sender, now, interval, count, max_wait, lead)
    else:
        first, taken = _row_take(sender, now, interval, count, max_wait, lead)
    slots = [first + timedelta(seconds=i * interval) for i in range(taken)]
    return PaceSlots(slots, first + timedelta(seconds=taken * interval))


def pace_slot_claim(*, sender: str, max_wait: float, at: datetime | None = None) -> PaceSlot:
    """One slot at the sender's configured rate (CUE_SEND_RATES)."""
    slots = pace_slots_take(
        sender=sender, rate=sender_rate(sender), count=1, max_wait=max_wait, at=at
    )
    if slots.taken:
        return PaceSlot(slots.taken[0], claimed=True)
    return PaceSlot(slots.next_free_at, claimed=False)


def pace_next_free(*, sender: str, at: datetime | None = None) -> datetime:
    """When the sender's first free slot begins (now when its schedule has run out), read
    without taking it."""
    now = at or timezone.now()
    if settings.CUE_PACING_REDIS_URL:
        stored = _redis(settings.CUE_PACING_REDIS_URL).get(f"cue:pace:{sender}")
        found = datetime.fromtimestamp(float(stored), tz=UTC) if stored else None
    else:
        found = SenderPace.objects.filter(sender=sender).values_list("next_slot_at", flat=True)
        found = found.first()
    return max(found, now) if found else now


def _slots_fitting(first: datetime, now: datetime, interval: float, count: int, max_wait, lead):
    if (first - now).total_seconds() > lead + 1e-9:
        return 0
    fit = math.floor((max_wait - (first - now).total_seconds()) / interval + 1e-9) + 1
    return max(0, min(count, fit))


@transaction.atomic
def _row_take(sender, now, interval, count, max_wait, lead) -> tuple[datetime, int]:
    SenderPace.objects.get_or_create(sender=sender, defaults={"next_slot_at": now})
    pace = SenderPace.objects.select_for_update().get(sender=sender)
    first = max(pace.next_slot_at, now)
    taken = _slots_fitting(first, now, interval, count, max_wait, lead)
    if taken:
        pace.next_slot_at = first + timedelta(seconds=taken * interval)
        pace.save(update_fields=["next_slot_at"])
    return first, taken


def _redis_take(sender, now, interval, count, max_wait, lead) -> tuple[datetime, int]:
    script = _take_script(settings.CUE_PACING_REDIS_URL)
    first, taken = script(
        keys=[f"cue:pace:{sender}"], args=[now.timestamp(), interval, count, max_wait, lead]
    )
    return datetime.fromtimestamp(float(first), tz=UTC), int(taken)


@lru_cache(maxsize=4)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


@lru_cache(maxsize=4)
def _take_script(url: str):
    return _redis(url).register_script(_TAKE_SCRIPT)
