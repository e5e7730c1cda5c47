"""Advance slots: how many runs of the advance task work at once. Each run after a full
first batch hands on another, so that a large step spreads over the engine's processes;
without a bound every engine process would advance at once and take the cores the
dispatch workers (and the database) need to send what was decided. A run takes a slot or
does nothing; the slots are rows, so the bound holds across workers and machines."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.journeys.models import AdvanceSlot

# Held no longer than a task can live (its hard time limit), so a run never loses its slot
# while it works, and a run killed without letting go frees it soon after.
LEASE_MARGIN = timedelta(seconds=30)


def advance_slot_take() -> str | None:
    """Takes a free slot of the CUE_ADVANCE_RUNS; answers the token it is held by, or None
    when every slot is held."""
    runs = settings.CUE_ADVANCE_RUNS
    AdvanceSlot.objects.bulk_create(
        [AdvanceSlot(number=number) for number in range(runs)], ignore_conflicts=True
    )
    now, token = timezone.now(), uuid.uuid4().hex
    free = Q(held_until__isnull=True) | Q(held_until__lt=now)
    candidates = AdvanceSlot.objects.filter(free, number__lt=runs).order_by("number")
    for number in candidates.values_list("number", flat=True):
        # Another run may take it between the read and here: only one UPDATE wins it.
        if AdvanceSlot.objects.filter(free, number=number).update(
            held_by=token, held_until=now + _lease()
        ):
            return token
    return None


def advance_slot_release(token: str) -> None:
    AdvanceSlot.objects.filter(held_by=token).update(held_by="", held_until=None)


def _lease() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + LEASE_MARGIN
