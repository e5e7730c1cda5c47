import time

from celery import shared_task

from apps.journeys.engine.advance import enrollment_advance_now, enrollments_advance_due
from apps.journeys.segment_entry import segment_entries_enroll

# Well inside the 120 s soft time limit: the next beat tick (or this task again) goes on.
ADVANCE_BUDGET_SECONDS = 45


@shared_task(name="journeys.enrollments_advance")
def enrollments_advance() -> int:
    """Advances due enrollments in batches until none is due, for at most
    ADVANCE_BUDGET_SECONDS (a batch started is finished or handed back, never half-run)."""
    total, deadline = 0, time.monotonic() + ADVANCE_BUDGET_SECONDS
    for _ in range(20):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        advanced = enrollments_advance_due(limit=500, budget=left)
        total += advanced
        if advanced < 500:
            break
    return total


@shared_task(name="journeys.enrollment_advance")
def enrollment_advance_task(enrollment_id: int) -> int:
    return enrollment_advance_now(enrollment_id=enrollment_id)


@shared_task(name="journeys.segment_entries_enroll")
def segment_entries_enroll_task() -> int:
    return segment_entries_enroll()
