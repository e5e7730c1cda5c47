from celery import shared_task

from apps.journeys.engine.advance import enrollment_advance_now, enrollments_advance_due
from apps.journeys.segment_entry import segment_entries_enroll


@shared_task(name="journeys.enrollments_advance")
def enrollments_advance() -> int:
    """Advances due enrollments in batches until none is due (bounded per run)."""
    total = 0
    for _ in range(20):
        advanced = enrollments_advance_due(limit=500)
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
