import time

from celery import shared_task
from django.db import transaction

from apps.core.queue import task_send
from apps.journeys.engine.advance import enrollment_advance_now, enrollments_advance_due
from apps.journeys.engine.slots import advance_slot_release, advance_slot_take
from apps.journeys.segment_entry import segment_entries_enroll

# Well inside the 120 s soft time limit: the next beat tick (or this task again) goes on.
ADVANCE_BUDGET_SECONDS = 45
ADVANCE_BATCH = 500
ADVANCE_BATCHES_PER_RUN = 20


@shared_task(name="journeys.enrollments_advance")
def enrollments_advance() -> int:
    """Advances due enrollments in batches until none is due, for at most
    ADVANCE_BUDGET_SECONDS (a batch started is finished or handed back, never half-run).

    A large step does not wait for beat's ticks: the first full batch hands one more run on
    at once (another engine process joins in), and a run that stops with a full last batch
    hands on its follow-up once it has let its slot go. Only CUE_ADVANCE_RUNS runs work at
    once (engine/slots.py): one that finds every slot held does nothing and hands nothing
    on, so the runs handed on stop at the bound. Claims keep any two runs off each other's
    enrollments, and a run that finds less than a full batch hands nothing on, so the chain
    ends with the work."""
    slot = advance_slot_take()
    if slot is None:
        return 0
    try:
        total, last_full = _batches_run()
    finally:
        advance_slot_release(slot)
    if last_full:  # stopped by its budget or its batch count, with work left
        _advance_hand_on()
    return total


def _batches_run() -> tuple[int, bool]:
    """Enrollments advanced, and whether the last batch came back full."""
    total, deadline = 0, time.monotonic() + ADVANCE_BUDGET_SECONDS
    for batch in range(ADVANCE_BATCHES_PER_RUN):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        advanced = enrollments_advance_due(limit=ADVANCE_BATCH, budget=left)
        total += advanced
        if advanced < ADVANCE_BATCH:
            return total, False
        if batch == 0:
            _advance_hand_on()
    return total, total > 0


def _advance_hand_on() -> None:
    # Lost if the broker is down: beat's next tick goes on instead.
    transaction.on_commit(lambda: task_send(enrollments_advance))


@shared_task(name="journeys.enrollment_advance")
def enrollment_advance_task(enrollment_id: int) -> int:
    return enrollment_advance_now(enrollment_id=enrollment_id)


@shared_task(name="journeys.segment_entries_enroll")
def segment_entries_enroll_task() -> int:
    return segment_entries_enroll()
