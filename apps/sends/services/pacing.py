"""Pacing: each send takes the next free slot of its sender's schedule, shared by every
worker, so the achieved rate is the configured one. With Redis at hand the schedule lives
there (one atomic script per batch, no row lock); otherwise in one database row per sender.
A batch takes all its slots, every sender's, in one step."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.sends.models import SenderPace
from apps.sends.selectors.senders import sender_mps

# KEYS: the senders' next free slots (epoch seconds). ARGV: now, max_wait, max_lead, then an
# interval and a count per key. Takes for each sender as many of its `count` consecutive
# slots as begin within max_wait, none for any sender when the earliest first free slot
# among them begins later than max_lead; answers each sender's first slot and how many were
# taken. A key expires a minute after its slot has passed.
_TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local max_lead = tonumber(ARGV[3])
local firsts = {}
local lead = nil
for i, key in ipairs(KEYS) do
  local first = tonumber(redis.call('GET', key) or ARGV[1])
  if first < now then first = now end
  firsts[i] = first
  if lead == nil or first - now < lead then lead = first - now end
end
local answer = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 + 2 * i])
  local count = tonumber(ARGV[3 + 2 * i])
  local first = firsts[i]
  local fit = math.floor((max_wait - (first - now)) / interval + 1e-9) + 1
  if lead > max_lead + 1e-9 then fit = 0 end
  local taken = math.max(0, math.min(count, fit))
  if taken > 0 then
    local after = first + taken * interval
    local ttl = math.ceil((after - now) * 1000) + 60000
    redis.call('SET', key, string.format('%.6f', after), 'PX', ttl)
  end
  table.insert(answer, string.format('%.6f', first))
  table.insert(answer, taken)
end
return answer
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


@dataclass(frozen=True)
class PaceRequest:
    """Slots one sender's messages want: `count` of them at `rate` per second."""

    sender: str
    rate: float
    count: int


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
    requests = [PaceRequest(sender, rate, count)]
    slots = pace_slots_take_many(requests=requests, max_wait=max_wait, max_lead=max_lead, at=at)
    return slots[sender]


def pace_slots_take_many(
    *,
    requests: list[PaceRequest],
    max_wait: float,
    max_lead: float | None = None,
    at: datetime | None = None,
) -> dict[str, PaceSlots]:
    """pace_slots_take for several senders in one step, by sender: none for any of them
    when the earliest first free slot among them begins later than `max_lead`. A batch's
    senders then take slots over the same seconds whenever their schedules ran level, so
    that one task makes the calls of all of them in each second (a task per sender would
    hold a worker process each while it waits for its slots)."""
    if not requests:
        return {}
    now = at or timezone.now()
    lead = max_wait if max_lead is None else max_lead
    if settings.CUE_PACING_REDIS_URL:
        found = _redis_take(requests, now, max_wait, lead)
    else:
        found = _row_take(requests, now, max_wait, lead)
    slots = {}
    for request, (first, taken) in zip(requests, found, strict=True):
        interval = 1 / request.rate
        moments = [first + timedelta(seconds=i * interval) for i in range(taken)]
        slots[request.sender] = PaceSlots(moments, first + timedelta(seconds=taken * interval))
    return slots


def pace_slot_claim(*, sender: str, max_wait: float, at: datetime | None = None) -> PaceSlot:
    """One slot at the sender's configured rate (CUE_SEND_RATES)."""
    slots = pace_slots_take(
        sender=sender, rate=sender_rate(sender), count=1, max_wait=max_wait, at=at
    )
    if slots.taken:
        return PaceSlot(slots.taken[0], claimed=True)
    return PaceSlot(slots.next_free_at, claimed=False)


def _slots_fitting(first: datetime, now: datetime, interval: float, count: int, max_wait):
    fit = math.floor((max_wait - (first - now).total_seconds()) / interval + 1e-9) + 1
    return max(0, min(count, fit))


@transaction.atomic
def _row_take(requests, now, max_wait, lead) -> list[tuple[datetime, int]]:
    """The senders' rows locked in sender order (two batches never wait for each other's
    rows in turn)."""
    paces = {}
    for sender in sorted({request.sender for request in requests}):
        SenderPace.objects.get_or_create(sender=sender, defaults={"next_slot_at": now})
        paces[sender] = SenderPace.objects.select_for_update().get(sender=sender)
    firsts = [max(paces[request.sender].next_slot_at, now) for request in requests]
    in_reach = (min(firsts) - now).total_seconds() <= lead + 1e-9
    found = []
    for request, first in zip(requests, firsts, strict=True):
        interval = 1 / request.rate
        taken = _slots_fitting(first, now, interval, request.count, max_wait) if in_reach else 0
        if taken:
            pace = paces[request.sender]
            pace.next_slot_at = first + timedelta(seconds=taken * interval)
            pace.save(update_fields=["next_slot_at"])
        found.append((first, taken))
    return found


def _redis_take(requests, now, max_wait, lead) -> list[tuple[datetime, int]]:
    script = _take_script(settings.CUE_PACING_REDIS_URL)
    args = [now.timestamp(), max_wait, lead]
    for request in requests:
        args += [1 / request.rate, request.count]
    answer = script(keys=[f"cue:pace:{request.sender}" for request in requests], args=args)
    pairs = zip(answer[::2], answer[1::2], strict=True)
    return [(datetime.fromtimestamp(float(first), tz=UTC), int(taken)) for first, taken in pairs]


@lru_cache(maxsize=4)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


@lru_cache(maxsize=4)
def _take_script(url: str):
    return _redis(url).register_script(_TAKE_SCRIPT)
