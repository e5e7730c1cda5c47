"""Advancing: each claimed enrollment runs its steps until it has to wait or ends.

A chunk of claimed enrollments runs in one transaction: the enrollments standing on a send
step have their messages made for the whole chunk at once (engine/sends.py), each run then
decides its moves in Python, and the chunk is finished with one UPDATE of every row. Only
when something in a chunk fails is it run again with a savepoint per enrollment, so the one
that fails is isolated and retried while the others go on. Work per call is bounded by a
time budget as well as a count; a Celery soft time limit is met between chunks (a chunk it
interrupts rolls back whole) and what was claimed but not run is released at once."""

import logging
import time
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from apps.core.bulk import rows_update
from apps.journeys.activity import activity_batched, activity_log
from apps.journeys.engine.claims import enrollment_claim_one, enrollments_claim
from apps.journeys.engine.sends import messages_for_sends
from apps.journeys.engine.steps import Move, step_run
from apps.journeys.models import Activity, Enrollment, EnrollmentState, JourneyStatus, Step

logger = logging.getLogger(__name__)

MAX_STEPS_PER_RUN = 25  # a valid graph has no loop without a wait; this is the backstop
RETRY_AFTER_ERROR = timedelta(minutes=5)
MAX_ERRORS = 3
CHUNK = 100  # enrollments per transaction: few commits, locks held only briefly
# What a run saves of an enrollment (moves, waits, ends, the variant drawn).
RUN_FIELDS = [
    "state",
    "next_run_at",
    "finished_at",
    "claim_token",
    "claimed_until",
    "current_step",
    "visits",
    "step_entered_at",
    "variants",
]


def enrollments_advance_due(
    *, limit: int = 500, now: datetime | None = None, budget: float | None = None
) -> int:
    """Claims a batch of due enrollments and advances each; returns how many it advanced.
    No chunk starts after `budget` seconds; the ones left are released for the next run."""
    token = enrollments_claim(limit=limit, now=now)
    ids = list(Enrollment.objects.filter(claim_token=token).values_list("pk", flat=True))
    deadline = time.monotonic() + budget if budget is not None else None
    advanced = 0
    for start in range(0, len(ids), CHUNK):
        if deadline is not None and time.monotonic() > deadline:
            _claims_release(ids[start:], token)
            break
        try:
            advanced += _chunk_run(ids[start : start + CHUNK], token)
        except SoftTimeLimitExceeded:
            _claims_release(ids[start:], token)
            raise
    return advanced


def _claims_release(ids: list[int], token: str) -> None:
    """Hands back claimed enrollments this call will not run: due again at once."""
    Enrollment.objects.filter(pk__in=ids, claim_token=token).update(
        claim_token="", claimed_until=None
    )


def _chunk_run(ids: list[int], token: str) -> int:
    try:
        return _chunk_run_together(ids, token)
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # someone in the chunk failed: again, each in a savepoint of its own
        logger.warning("A chunk of %s enrollments failed; isolating each one", len(ids))
        return _chunk_run_isolated(ids, token)


def _chunk_run_together(ids: list[int], token: str) -> int:
    """The chunk in one transaction with no savepoint: its send steps' messages made
    together, every run decided, and every enrollment saved by one UPDATE."""
    with transaction.atomic(), activity_batched():
        enrollments = _locked(Enrollment.objects.filter(pk__in=ids, claim_token=token))
        running = [e for e in enrollments if e.state in EnrollmentState.running()]
        now = timezone.now()
        made = messages_for_sends(running, now)
        steps: dict[int, dict] = {}
        for enrollment in running:
            _steps_run(enrollment, now, steps, made)
        rows_update(running, RUN_FIELDS)
        return len(running)


def _chunk_run_isolated(ids: list[int], token: str) -> int:
    """Runs a chunk of claimed enrollments in one transaction (one commit, one INSERT of
    their activity), each in a savepoint of its own: one that fails is rolled back and
    recorded, and the others go on."""
    try:
        with transaction.atomic(), activity_batched() as entries:
            enrollments = _locked(Enrollment.objects.filter(pk__in=ids, claim_token=token))
            steps: dict[int, dict] = {}
            return sum(_one_run(enrollment, steps, entries) for enrollment in enrollments)
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # the chunk itself failed (lost connection…): one by one instead
        logger.exception("A chunk of %s enrollments failed; running them one by one", len(ids))
        return sum(enrollment_run(enrollment_id=pk, token=token) for pk in ids)


def _one_run(enrollment: Enrollment, steps: dict, entries: list) -> int:
    if enrollment.state not in EnrollmentState.running():
        return 0
    mark = len(entries)
    try:
        with transaction.atomic():
            _steps_run(enrollment, timezone.now(), steps)
            enrollment.save()
        return 1
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # one bad enrollment must not stop the chunk
        logger.exception("Enrollment %s failed to advance", enrollment.pk)
        del entries[mark:]
        _failure_record(enrollment.pk, error)
        return 0


def _locked(enrollments):
    # Only the enrollment's rows: FOR UPDATE may not reach the nullable side of the step
    # join on PostgreSQL, and locking the shared journey row would queue every worker
    # behind one another. The journey, version and step a chunk shares are read once
    # each (one instance for all its enrollments), not built again, JSON and all, from
    # every joined row.
    return (
        enrollments.select_for_update(of=("self",))
        .select_related("contact")
        .prefetch_related("journey", "version", "current_step")
        .order_by("pk")
    )


def enrollment_advance_now(*, enrollment_id: int) -> int:
    """Runs one enrollment at once (its first step right after it entered)."""
    token = enrollment_claim_one(enrollment_id=enrollment_id)
    return enrollment_run(enrollment_id=enrollment_id, token=token) if token else 0


def enrollment_run(*, enrollment_id: int, token: str) -> int:
    try:
        with transaction.atomic():
            enrollment = _locked(
                Enrollment.objects.filter(pk=enrollment_id, claim_token=token)
            ).first()
            if enrollment is None or enrollment.state not in EnrollmentState.running():
                return 0
            _steps_run(enrollment, timezone.now(), {})
            enrollment.save()
            return 1
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # one bad enrollment must not stop the batch
        logger.exception("Enrollment %s failed to advance", enrollment_id)
        _failure_record(enrollment_id, error)
        return 0


def _steps_run(
    enrollment: Enrollment, now: datetime, steps_by_version: dict, made: dict | None = None
) -> None:
    """Runs the enrollment's steps until it waits or ends; the caller saves it."""
    if enrollment.journey.status != JourneyStatus.ACTIVE:
        _sleep(
            enrollment, now + timedelta(hours=1), "The journey is not active; checking again later."
        )
        return
    steps = _version_steps(enrollment, steps_by_version)
    for _ in range(MAX_STEPS_PER_RUN):
        step = enrollment.current_step
        if step is None:
            return _finish(enrollment, EnrollmentState.COMPLETED, "No step to run.", now)
        move = step_run(enrollment, step, now, made)
        if move.end_state:
            return _finish(enrollment, move.end_state, move.reason, now)
        if move.sleep_until:
            return _sleep(enrollment, move.sleep_until, move.reason)
        _move_to(enrollment, steps, move, now)
    _sleep(enrollment, now + RETRY_AFTER_ERROR, "Too many steps in one run; continuing later.")


def _version_steps(enrollment: Enrollment, steps_by_version: dict) -> dict:
    """The steps of the version the enrollment runs on (its current step's), read once per
    chunk: an enrollment stays on its version after a newer one is published."""
    step = enrollment.current_step
    version_id = step.version_id if step is not None else enrollment.version_id
    if version_id not in steps_by_version:
        steps_by_version[version_id] = {
            s.key: s for s in Step.objects.filter(version_id=version_id)
        }
    return steps_by_version[version_id]


def _move_to(enrollment: Enrollment, steps: dict, move: Move, now: datetime) -> None:
    step = steps[move.to]
    visits = dict(enrollment.visits or {})
    visits[step.key] = visits.get(step.key, 0) + 1
    enrollment.current_step, enrollment.visits, enrollment.step_entered_at = step, visits, now
    enrollment.state = EnrollmentState.ACTIVE
    activity_log(
        enrollment,
        Activity.Kind.STEP,
        move.reason or f"On to {step.key}.",
        step_key=step.key,
        visit=visits[step.key],
    )


def _sleep(enrollment: Enrollment, until: datetime, reason: str) -> None:
    enrollment.state, enrollment.next_run_at = EnrollmentState.WAITING, until
    enrollment.claim_token, enrollment.claimed_until = "", None
    activity_log(
        enrollment,
        Activity.Kind.WAIT,
        reason,
        step_key=getattr(enrollment.current_step, "key", ""),
        until=until.isoformat(),
    )


def _finish(enrollment: Enrollment, state: str, reason: str, now: datetime) -> None:
    enrollment.state, enrollment.finished_at, enrollment.next_run_at = state, now, None
    enrollment.claim_token, enrollment.claimed_until = "", None
    kind = Activity.Kind.EXIT if state != EnrollmentState.GOAL_REACHED else Activity.Kind.GOAL
    activity_log(
        enrollment, kind, reason, step_key=getattr(enrollment.current_step, "key", ""), state=state
    )


def _failure_record(enrollment_id: int, error: Exception) -> None:
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None:
        return
    errors = enrollment.activity.filter(kind=Activity.Kind.ERROR).count() + 1
    activity_log(
        enrollment,
        Activity.Kind.ERROR,
        f"{error.__class__.__name__}: {error}"[:500],
        step_key=getattr(enrollment.current_step, "key", ""),
    )
    if errors >= MAX_ERRORS:
        Enrollment.objects.filter(pk=enrollment_id).update(
            state=EnrollmentState.FAILED,
            finished_at=timezone.now(),
            claim_token="",
            claimed_until=None,
        )
    else:
        Enrollment.objects.filter(pk=enrollment_id).update(
            next_run_at=timezone.now() + RETRY_AFTER_ERROR, claim_token="", claimed_until=None
        )
