"""The journeys app's parts of a data-subject request (registered in ready()).

Enrollments stay (journey reports count them); a running one ends, and the decision log
("why did or didn't she get this") keeps its steps and reasons without the person's name,
number or words.
"""

from apps.contacts.erasure.registry import ErasureContext, ErasurePart, erasure_part_register
from apps.contacts.erasure.rows import rows_export, rows_scrub
from apps.contacts.models import Contact
from apps.journeys.models import Activity, Enrollment, EnrollmentState

ERASED_EXIT = "The contact's data was erased."


def _enrollments(contact: Contact):
    return Enrollment.objects.filter(contact=contact)


def _activity(contact: Contact):
    return Activity.objects.filter(enrollment__contact=contact)


def _enrollments_erase(contact: Contact, context: ErasureContext) -> int:
    running = _enrollments(contact).filter(state__in=EnrollmentState.running())
    ended = list(running.values_list("pk", flat=True))
    changed = running.update(
        state=EnrollmentState.EXITED, finished_at=context.at, next_run_at=None, claim_token=""
    )
    Activity.objects.bulk_create(
        [Activity(enrollment_id=pk, kind=Activity.Kind.EXIT, reason=ERASED_EXIT) for pk in ended]
    )
    return changed + rows_scrub(_enrollments(contact), ["visits", "variants"], context.traces)


def _activity_erase(contact: Contact, context: ErasureContext) -> int:
    return rows_scrub(_activity(contact), ["reason", "detail", "step_key"], context.traces)


def journeys_erasure_parts_register() -> None:
    erasure_part_register(
        "journeys.enrollments",
        ErasurePart(
            "Journey enrollments",
            lambda c: rows_export(_enrollments(c)),
            lambda c: _enrollments(c).count(),
            _enrollments_erase,
        ),
    )
    erasure_part_register(
        "journeys.decision_log",
        ErasurePart(
            "Journey decision log",
            lambda c: rows_export(_activity(c)),
            lambda c: _activity(c).count(),
            _activity_erase,
        ),
    )
