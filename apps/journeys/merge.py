"""The journeys app's part of a contact merge: the duplicate's enrollments are the
survivor's now. One enrollment runs per contact and journey, so where both run in the same
journey the survivor's goes on and the duplicate's is ended, with why in its activity log
(a message it queued is then stopped by the send gate: its journey has ended)."""

from django.utils import timezone

from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact
from apps.journeys.activity import activity_log
from apps.journeys.models import Activity, Enrollment, EnrollmentState


def enrollments_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    running = EnrollmentState.running()
    journeys_running = Enrollment.objects.filter(contact=survivor, state__in=running).values(
        "journey_id"
    )
    for enrollment in Enrollment.objects.filter(
        contact=duplicate, state__in=running, journey_id__in=journeys_running
    ):
        _end(enrollment, survivor, context)
    return Enrollment.objects.filter(contact=duplicate).update(contact=survivor)


def _end(enrollment: Enrollment, survivor: Contact, context: MergeContext) -> None:
    reason = f"Contact merged into contact {survivor.pk}, already in this journey: {context.reason}"
    enrollment.state = EnrollmentState.EXITED
    enrollment.finished_at = timezone.now()
    enrollment.next_run_at = None
    enrollment.save(update_fields=["state", "finished_at", "next_run_at"])
    activity_log(enrollment, Activity.Kind.EXIT, reason)
    context.notes.append(
        f"The duplicate's enrollment {enrollment.pk} in journey {enrollment.journey_id} "
        "ended: the survivor is already in that journey."
    )


def journeys_merge_parts_register() -> None:
    merge_part_register(
        "journeys.enrollments",
        MergePart(
            "Journey enrollments",
            lambda contact: Enrollment.objects.filter(contact=contact).count(),
            enrollments_merge,
        ),
    )
