"""Writes of the journeys app: enrolling, ending on a goal, activating and pausing."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.contacts.models import Contact, Event
from apps.core.errors import CueError
from apps.core.queue import task_send
from apps.journeys.activity import activity_log
from apps.journeys.graph import journey_problems
from apps.journeys.models import (
    Activity,
    Enrollment,
    EnrollmentState,
    Journey,
    JourneySettings,
    JourneyStatus,
    JourneyVersionStatus,
    ReentryPolicy,
)


class JourneyError(CueError):
    pass


def journey_settings_follow(journey: Journey, version: JourneySettings) -> list[str]:
    """The only writer of a journey's copy of its settings (the copy the trigger look-up and
    the entry decisions read): it takes the version going live, or the draft of a journey
    that never ran. In memory: the caller saves these fields in the same transaction."""
    return journey.settings_take(version)


def holdout_for(contact_id: int, journey: Journey) -> bool:
    """A stable, evenly spread draw: the same contact is in (or out of) a journey's holdout
    every time. The same formula runs in SQL for segment entries (segment_entry.py)."""
    return (contact_id * 2654435761 + journey.pk * 40503) % 100 < journey.holdout_percent


def reentry_allowed(journey: Journey, contact_id: int, now: datetime) -> bool:
    previous = (
        Enrollment.objects.filter(journey=journey, contact_id=contact_id)
        .order_by("-entered_at")
        .first()
    )
    if previous is None:
        return True
    if previous.state in EnrollmentState.running() or journey.reentry == ReentryPolicy.NEVER:
        return False
    since = previous.finished_at or previous.entered_at
    return now - since >= timedelta(days=journey.reentry_days or 0)


def enrollment_start(
    *, journey: Journey, contact: Contact, event: Event | None = None, now: datetime | None = None
) -> Enrollment | None:
    """Enrolls the contact if the journey's CRM gate and re-entry rule allow it; the first
    step runs right after commit."""
    now = now or timezone.now()
    if journey.status != JourneyStatus.ACTIVE or journey.first_step_id is None:
        return None
    if not _in_entry_segment(journey, contact.pk) or not reentry_allowed(journey, contact.pk, now):
        return None
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                journey=journey,
                contact=contact,
                current_step_id=journey.first_step_id,
                version_id=journey.first_step.version_id,  # the live version's first step
                state=EnrollmentState.ACTIVE,
                next_run_at=now,
                step_entered_at=now,
                visits={journey.first_step.key: 1},
                triggering_event=event,
                is_holdout=holdout_for(contact.pk, journey),
            )
    except IntegrityError:
        return None  # already running in this journey (the unique constraint decides)
    activity_log(
        enrollment,
        Activity.Kind.ENTERED,
        _entry_reason(journey, event, enrollment),
        step_key=journey.first_step.key,
        event_id=getattr(event, "pk", None),
    )
    transaction.on_commit(lambda: _advance_soon(enrollment.pk))
    return enrollment


def _in_entry_segment(journey: Journey, contact_id: int) -> bool:
    if journey.entry_segment_id is None:
        return True
    return journey.entry_segment.contacts().filter(pk=contact_id).exists()


def _entry_reason(journey: Journey, event: Event | None, enrollment: Enrollment) -> str:
    why = f"{event.type} at {event.occurred_at:%Y-%m-%d %H:%M}" if event else "segment entry"
    return f"Entered on {why}" + (
        " (holdout: will not be messaged)." if enrollment.is_holdout else "."
    )


def _advance_soon(enrollment_id: int) -> None:
    from apps.journeys.tasks import enrollment_advance_task

    # Broker down: the beat's advance picks it up (its next_run_at is now).
    task_send(enrollment_advance_task, enrollment_id)


@transaction.atomic
def enrollment_goal_reach(
    *, enrollment: Enrollment, reason: str, event: Event | None = None
) -> bool:
    """Ends the enrollment at once and cancels its pending and queued messages — it does
    not wait for the current wait step to run out."""
    from apps.sends.models import OutboundMessage
    from apps.sends.services.messages import messages_cancel

    now = timezone.now()
    ended = Enrollment.objects.filter(pk=enrollment.pk, state__in=EnrollmentState.running()).update(
        state=EnrollmentState.GOAL_REACHED, finished_at=now, next_run_at=None
    )
    if not ended:
        return False
    cancelled = messages_cancel(
        queryset=OutboundMessage.objects.filter(enrollment_id=enrollment.pk),
        reason_code="journey_goal",
        reason=f"The journey's goal was met: {reason}",
    )
    activity_log(
        enrollment,
        Activity.Kind.GOAL,
        f"Goal reached: {reason}",
        event_id=getattr(event, "pk", None),
        cancelled_messages=cancelled,
    )
    return True


@transaction.atomic
def journey_activate(*, journey: Journey, actor) -> Journey:
    if not actor.has_perm("journeys.activate_journey"):
        raise JourneyError("Only an approver may activate a journey.")
    if journey.status not in (JourneyStatus.DRAFT, JourneyStatus.PAUSED):
        raise JourneyError(
            f"{journey.name} is {journey.get_status_display().lower()}; "
            "only a draft or paused journey can be activated.",
            field="status",
        )
    version = journey.live_version or journey.version_shown()
    problems = journey_problems(journey, version=version)
    if problems:
        raise JourneyError(" ".join(problems), field="steps")
    if journey.live_version_id is None and version is not None:
        _first_version_publish(journey, version, actor)
    journey.status, journey.activated_at = JourneyStatus.ACTIVE, timezone.now()
    journey._history_user = actor
    journey._change_reason = f"Activated by {actor.username}"
    journey.save()
    return journey


def _first_version_publish(journey: Journey, version, actor) -> None:
    """Activating a journey that never ran publishes its first version, reviewed by the
    activating approver, who must not be its author."""
    if version.author_id is not None and version.author_id == actor.pk:
        raise JourneyError(
            "You wrote this journey, so someone else must activate it.", code="self_approval"
        )
    now = timezone.now()
    version.status, version.approver, version.published_by = (
        JourneyVersionStatus.PUBLISHED,
        actor,
        actor,
    )
    version.approved_at = version.published_at = now
    version.first_step_id = version.first_step_id or journey.first_step_id
    journey.first_step_id = version.first_step_id  # new entrants start on this version
    journey_settings_follow(journey, version)  # saved with the journey by journey_activate
    version._history_user, version._change_reason = actor, f"Published by {actor.username}"
    version.save()
    journey.live_version = version


@transaction.atomic
def journey_pause(*, journey: Journey, actor) -> Journey:
    if not actor.has_perm("journeys.activate_journey"):
        raise JourneyError("Only an approver may pause a journey.")
    if journey.status != JourneyStatus.ACTIVE:
        raise JourneyError(
            f"{journey.name} is {journey.get_status_display().lower()}; "
            "only an active journey can be paused.",
            field="status",
        )
    journey.status = JourneyStatus.PAUSED
    journey._history_user = actor
    journey._change_reason = f"Paused by {actor.username}"
    journey.save()
    return journey
