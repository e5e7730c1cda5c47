"""The journeys' handler on the event hand-off: end enrollments whose goal the event meets
(first, and at once), wake those waiting for it, and enroll contacts it triggers.

Stage changes carry the time they happened in the source system (`occurred_at`), not the
time Cue heard of them (`received_at`). The late-change rule: a stage change
(`stage_changed`, `lifecycle_stage_changed`, `opportunity_created`) received more than
STAGE_TRIGGER_WINDOW after it happened never enrolls anyone: the moment its journey trigger
was for has passed, and a message now would answer a change the buyer made long ago. It
still meets goals (ending a journey late is safe; starting one late is not). A change
older than the record's current stage (marked `superseded` by contacts' stage rule) never
enrolls anyone either, however soon it was heard: the contact is no longer at that stage.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from apps.contacts.models import Event, EventType
from apps.contacts.stages import lifecycle_reached, pipeline_stage_reached, stage_is_forward
from apps.journeys.models import (
    Enrollment,
    EnrollmentState,
    Journey,
    JourneySettings,
    JourneyStatus,
    TriggerKind,
)
from apps.journeys.services import enrollment_goal_reach, enrollment_start
from apps.journeys.steps import SPECS

logger = logging.getLogger(__name__)

STAGE_TRIGGER_WINDOW = timedelta(hours=24)
STAGE_CHANGE_TYPES = frozenset(
    {EventType.STAGE_CHANGED, EventType.LIFECYCLE_STAGE_CHANGED, EventType.OPPORTUNITY_CREATED}
)


def journeys_on_events(events: list[Event]) -> None:
    _goals_check(events)
    _waits_wake(events)
    _enroll(events)


def goal_met(settings: JourneySettings, event: Event) -> str | None:
    """Why the event meets the goal of these settings (an enrollment's: its version's), or
    None."""
    if event.type in (settings.exit_event_types or []):
        return f"{event.type} at {event.occurred_at:%Y-%m-%d %H:%M}"
    if settings.exit_on_opportunity and _opportunity_advanced(event):
        return f"opportunity {event.type.replace('_', ' ')}"
    if settings.exit_pipeline_stage_id and _pipeline_stage_reached(settings, event):
        return f"opportunity reached {settings.exit_pipeline_stage}"
    if settings.exit_lifecycle_stage and event.type == "lifecycle_stage_changed":
        stage = (event.properties or {}).get("to", "")
        if lifecycle_reached(stage, settings.exit_lifecycle_stage):
            return f"lifecycle stage reached {stage}"
    return None


def _pipeline_stage_reached(settings: JourneySettings, event: Event) -> bool:
    """A deal moved to the goal stage or past it (a new deal's first stage arrives as a move
    too, from no stage)."""
    if event.type != EventType.STAGE_CHANGED:
        return False
    properties = event.properties or {}
    to, pipeline = properties.get("to"), properties.get("pipeline_id")
    if not to or not isinstance(to, str):
        return False
    return pipeline_stage_reached(
        pipeline_id=pipeline if isinstance(pipeline, int) else None,
        key=to,
        goal=settings.exit_pipeline_stage,
    )


def _opportunity_advanced(event: Event) -> bool:
    """An opportunity created, or moved forward in its pipeline (a move back, or to a lost
    stage, is no progress). A stage change that names no stage counts: Cue cannot tell, and
    ending a journey is the safe side."""
    if event.type == EventType.OPPORTUNITY_CREATED:
        return True
    if event.type != EventType.STAGE_CHANGED:
        return False
    properties = event.properties or {}
    to, was, pipeline = (properties.get(key) for key in ("to", "from", "pipeline_id"))
    if not to or not isinstance(to, str):
        return True
    return stage_is_forward(
        pipeline_id=pipeline if isinstance(pipeline, int) else None,
        from_key=was if isinstance(was, str) else "",
        to_key=to,
    )


def _running_for(events: list[Event]):
    contact_ids = {event.contact_id for event in events}
    return Enrollment.objects.filter(
        contact_id__in=contact_ids, state__in=EnrollmentState.running()
    ).select_related("journey", "version", "current_step")


def _goals_check(events: list[Event]) -> None:
    by_contact = defaultdict(list)
    for event in events:
        by_contact[event.contact_id].append(event)
    for enrollment in _running_for(events):
        for event in by_contact[enrollment.contact_id]:
            reason = goal_met(enrollment.settings, event)
            if reason:
                enrollment_goal_reach(enrollment=enrollment, reason=reason, event=event)
                break
    _finished_journeys_messages_stop(by_contact)


def _finished_journeys_messages_stop(by_contact: dict) -> None:
    """A journey that already ran to its end may still have a message waiting (queued or
    deferred): the goal of the version its enrollment ran on stops that too."""
    from apps.sends.models import MessageStatus, OutboundMessage
    from apps.sends.services.messages import messages_cancel

    waiting = (
        OutboundMessage.objects.filter(
            contact_id__in=by_contact,
            journey_id__isnull=False,
            status__in=MessageStatus.cancellable(),
        )
        .values_list("journey_id", "contact_id", "enrollment_id")
        .distinct()
    )
    journeys = Journey.objects.in_bulk({journey_id for journey_id, _, _ in waiting})
    enrollments = Enrollment.objects.select_related("version", "journey").in_bulk(
        {enrollment_id for _, _, enrollment_id in waiting if enrollment_id is not None}
    )
    for journey_id, contact_id, enrollment_id in waiting:
        enrollment = enrollments.get(enrollment_id)
        settings = enrollment.settings if enrollment else journeys[journey_id]
        reason = next((r for e in by_contact[contact_id] if (r := goal_met(settings, e))), None)
        if reason:
            messages_cancel(
                queryset=OutboundMessage.objects.filter(
                    journey_id=journey_id, contact_id=contact_id, enrollment_id=enrollment_id
                ),
                reason_code="journey_goal",
                reason=f"The journey's goal was met: {reason}",
            )


def _waits_wake(events: list[Event]) -> None:
    """A wait_until step re-checks at once when an event it may be waiting for arrives."""
    types_by_contact = defaultdict(set)
    for event in events:
        types_by_contact[event.contact_id].add(event.type)
    now = timezone.now()
    for enrollment in _running_for(events).filter(
        state=EnrollmentState.WAITING, current_step__kind="wait_until"
    ):
        step = enrollment.current_step
        wanted = set(SPECS[step.kind].config(step).events)
        if wanted & types_by_contact[enrollment.contact_id]:
            Enrollment.objects.filter(pk=enrollment.pk, state=EnrollmentState.WAITING).update(
                next_run_at=now
            )


def _enroll(events: list[Event]) -> None:
    """One indexed query finds the journeys these event types trigger: the cost does not
    grow with the journeys an event does not match."""
    journeys = defaultdict(list)
    for journey in Journey.objects.filter(
        status=JourneyStatus.ACTIVE,
        trigger_kind=TriggerKind.EVENT,
        trigger_event_type__in={event.type for event in events},
    ).select_related("first_step", "entry_segment"):
        journeys[journey.trigger_event_type].append(journey)
    for event in events:
        if _too_late_to_trigger(event):
            continue
        for journey in journeys[event.type]:
            if _filters_match(journey.trigger_filters, event.properties or {}):
                enrollment_start(journey=journey, contact=event.contact, event=event)


def _too_late_to_trigger(event: Event) -> bool:
    if event.type not in STAGE_CHANGE_TYPES:
        return False
    if (event.properties or {}).get("superseded") is True:
        return True
    lateness = (event.received_at or timezone.now()) - event.occurred_at
    if lateness <= STAGE_TRIGGER_WINDOW:
        return False
    logger.info(
        "Event %s (%s) arrived %s after it happened: it triggers no journey.",
        event.pk,
        event.type,
        lateness,
    )
    return True


def _filters_match(filters: dict, properties: dict) -> bool:
    return all(properties.get(key) == value for key, value in (filters or {}).items())
