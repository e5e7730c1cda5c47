"""The journeys' part of the send gate (rule 3): a message from a journey goes out unless
its enrollment was stopped (goal, exit, failure), within the journey's own cap and sending
days. The goal, the cap and the sending days are those of the version the enrollment runs
on (Enrollment.settings): publishing a newer version does not change them under it."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.contacts.models import Event, EventType
from apps.journeys.intake import goal_met
from apps.journeys.models import (
    Enrollment,
    EnrollmentState,
    Journey,
    JourneySettings,
    JourneyStatus,
)
from apps.journeys.services import enrollment_goal_reach
from apps.sends.models import Decision, MessageStatus, OutboundMessage
from apps.sends.policy import GateResult, counts_since
from apps.sends.quiet_hours import Recipient, recipient_window

# A completed enrollment's last message still goes; these end what was queued.
STOPPED = {EnrollmentState.GOAL_REACHED, EnrollmentState.EXITED, EnrollmentState.FAILED}


def journey_gate_check(message, at: datetime, store: dict) -> GateResult | None:
    """A batch reads the enrollment, its goal events and the journey's count from `store`
    (journey_gate_prefetch); one message reads them from the database."""
    if message.enrollment_id is None:
        # Only the simulator makes a journey's message without an enrollment (an unsaved
        # one): it still meets the journey's own rules.
        journey = Journey.objects.filter(pk=message.journey_id).first()
        return journey_rules_check(message, journey, at) if journey else None
    enrollment = _enrollment_of(message, store)
    if enrollment is None or enrollment.state in STOPPED:
        state = enrollment.get_state_display().lower() if enrollment else "gone"
        return GateResult(
            Decision.SUPPRESS, "journey_ended", f"The contact's journey has ended ({state})."
        )
    return _goal_check(enrollment, at, store) or journey_rules_check(
        message, enrollment.journey, at, store, settings=enrollment.settings
    )


def _enrollment_of(message, store: dict) -> Enrollment | None:
    if "enrollments" in store:
        return store["enrollments"].get(message.enrollment_id)
    return (
        Enrollment.objects.select_related("journey", "version")
        .filter(pk=message.enrollment_id)
        .first()
    )


def journey_gate_known(enrollments: list[Enrollment]) -> dict:
    """What the engine hands the batch gate (messages_create_batch's `gate_known`): the
    enrollments it is advancing, loaded and locked with their journeys, so the prefetch
    does not read them again. Dispatch's re-check has none: it reads them afresh."""
    return {"enrollments": {enrollment.pk: enrollment for enrollment in enrollments}}


def journey_gate_prefetch(messages: list, at: datetime, store: dict) -> None:
    """The batch form's reads: every enrollment (only those the caller did not hand over),
    the goal-type events of their contacts since the earliest entry, and each journey's
    count per contact over its cap window."""
    ids = {m.enrollment_id for m in messages if m.enrollment_id is not None}
    known = store.get("enrollments", {})
    store["enrollments"] = {pk: known[pk] for pk in ids if pk in known}
    if missing := ids - set(known):
        enrollments = Enrollment.objects.select_related("journey", "version").filter(pk__in=missing)
        store["enrollments"].update((enrollment.pk, enrollment) for enrollment in enrollments)
    store["goal_events"] = _goal_events_of(list(store["enrollments"].values()))
    store["journey_counts"] = _journey_counts_of(messages, store["enrollments"], at)


def _goal_types(settings: JourneySettings) -> set[str]:
    types = set(settings.exit_event_types or [])
    if settings.exit_on_opportunity:
        types |= {EventType.OPPORTUNITY_CREATED, EventType.STAGE_CHANGED}
    if settings.exit_pipeline_stage_id:
        types.add(EventType.STAGE_CHANGED)
    if settings.exit_lifecycle_stage:
        types.add(EventType.LIFECYCLE_STAGE_CHANGED)
    return types


def _goal_events_of(enrollments: list[Enrollment]) -> dict[int, list[Event]]:
    """Candidate goal events by contact, in the order the single form reads them."""
    watching = [e for e in enrollments if _goal_types(e.settings)]
    by_contact: dict[int, list[Event]] = {e.contact_id: [] for e in watching}
    if not watching:
        return by_contact
    types = set().union(*(_goal_types(e.settings) for e in watching))
    events = Event.objects.filter(
        contact_id__in=list(by_contact),
        type__in=types,
        received_at__gte=min(e.entered_at for e in watching),
    ).order_by("received_at", "id")
    for event in events:
        by_contact[event.contact_id].append(event)
    return by_contact


def _journey_counts_of(messages: list, enrollments: dict, at: datetime) -> dict:
    """(journey id, cap hours, contact id) → the journey's messages counting against a cap
    of that window: one query per journey and window (versions may differ in theirs)."""
    windows: dict[tuple[int, int], list[int]] = {}
    for message in messages:
        enrollment = enrollments.get(message.enrollment_id)
        if enrollment is not None and _capped(enrollment.settings):
            key = (enrollment.journey_id, enrollment.settings.cap_hours)
            windows.setdefault(key, []).append(message.contact_id)
    counts: dict = {}
    for (journey_id, hours), contacts in windows.items():
        rows = (
            _journey_reserving(journey_id, hours, at)
            .filter(contact_id__in=contacts)
            .exclude(pk__in=[m.pk for m in messages if m.pk])
            .values("contact_id")
            .annotate(used=Count("pk"))
        )
        counts.update({(journey_id, hours, row["contact_id"]): row["used"] for row in rows})
    return counts


def _capped(settings: JourneySettings) -> bool:
    return bool(settings.cap_messages and settings.cap_hours)


def _journey_reserving(journey_id: int, hours: int, at: datetime):
    """The journey's messages (from any of its versions) that count in the last `hours`."""
    return OutboundMessage.objects.filter(
        journey_id=journey_id, status__in=MessageStatus.reserving()
    ).filter(counts_since(at - timedelta(hours=hours)))


def _goal_check(enrollment: Enrollment, at: datetime, store: dict) -> GateResult | None:
    """A goal event recorded since the contact entered stops the message even though the
    event's hand-off (which ends the enrollment) has not run yet: a worker backlog or a
    broker outage must not let a message out after the goal."""
    event, reason = _goal_recorded(enrollment, store)
    if event is None:
        return None
    _enrollment_end_on_goal(enrollment, reason, event)
    return GateResult(
        Decision.SUPPRESS,
        "journey_goal",
        f"The journey's goal was met: {reason}",
        inputs={"event_id": event.pk},
    )


def _goal_recorded(enrollment: Enrollment, store: dict) -> tuple[Event | None, str]:
    settings = enrollment.settings
    types = _goal_types(settings)
    if not types:
        return None, ""
    for event in _goal_candidates(enrollment, types, store):
        reason = goal_met(settings, event)
        if reason:
            return event, reason
    return None, ""


def _goal_candidates(enrollment: Enrollment, types: set[str], store: dict) -> list[Event]:
    if "goal_events" in store:
        return [
            event
            for event in store["goal_events"].get(enrollment.contact_id, [])
            if event.type in types
            and event.received_at >= enrollment.entered_at
            and event.pk != enrollment.triggering_event_id
        ]
    return list(
        Event.objects.filter(
            contact_id=enrollment.contact_id, type__in=types, received_at__gte=enrollment.entered_at
        )
        .exclude(pk=enrollment.triggering_event_id)
        .order_by("received_at", "id")
    )


def _enrollment_end_on_goal(enrollment: Enrollment, reason: str, event: Event) -> None:
    """Ends a running enrollment so that no next step follows. Skipped while the engine has
    it (claimed, or its row locked): the engine sees the refusal of its own send and ends
    it itself; waiting for its lock here could deadlock on the contact lock."""
    if enrollment.state not in EnrollmentState.running():
        return
    claimed_until = enrollment.claimed_until
    if enrollment.claim_token and claimed_until and claimed_until > timezone.now():
        return
    with transaction.atomic():
        free = (
            Enrollment.objects.select_for_update(skip_locked=True)
            .filter(pk=enrollment.pk, state__in=EnrollmentState.running())
            .first()
        )
        if free is not None:
            enrollment_goal_reach(enrollment=free, reason=reason, event=event)


def journey_rules_check(
    message,
    journey: Journey,
    at: datetime,
    store: dict | None = None,
    *,
    settings: JourneySettings | None = None,
) -> GateResult | None:
    """The journey's own rules: not archived or paused, within the cap and sending days of
    `settings` (the enrollment's version's; the journey's live copy when there is none)."""
    if journey.status == JourneyStatus.ARCHIVED:
        return GateResult(Decision.SUPPRESS, "journey_archived", f"{journey.name} is archived.")
    if journey.status == JourneyStatus.PAUSED:
        return GateResult(
            Decision.DEFER,
            "journey_paused",
            f"{journey.name} is paused.",
            until=at + timedelta(hours=1),
        )
    settings = settings or journey
    return _cap(message, journey, settings, at, store or {}) or _weekday(
        journey, settings, message, at
    )


def _cap(
    message, journey: Journey, settings: JourneySettings, at: datetime, store: dict
) -> GateResult | None:
    if not _capped(settings) or message.contact_id is None:
        return None
    hours = settings.cap_hours
    if "journey_counts" in store:
        used = store["journey_counts"].get((journey.pk, hours, message.contact_id), 0)
    else:
        used = (
            _journey_reserving(journey.pk, hours, at)
            .filter(contact_id=message.contact_id)
            .exclude(pk=message.pk)
            .count()
        )
    if used < settings.cap_messages:
        return None
    return GateResult(
        Decision.SUPPRESS,
        "journey_cap",
        f"{journey.name} already sent {used} in {hours} h (its cap is {settings.cap_messages}).",
        inputs={"used": used},
    )


def _weekday(
    journey: Journey, settings: JourneySettings, message, at: datetime
) -> GateResult | None:
    """Sending days are the recipient's own days, like quiet hours: Monday 00:30 UTC is still
    Sunday evening in Chicago. Every zone the contact could be in must be on a sending day."""
    days = settings.send_weekdays or []
    if not days:
        return None
    zones = _zones(message, at)
    if all(at.astimezone(zone).weekday() in days for zone in zones):
        return None
    return GateResult(
        Decision.DEFER,
        "journey_send_days",
        f"{journey.name} sends only on its sending days.",
        until=max(_next_sending_day(at.astimezone(zone), days) for zone in zones),
        inputs={"zones": [zone.key for zone in zones]},
    )


def _zones(message, at: datetime) -> list[ZoneInfo]:
    """The zones quiet hours use for this recipient: the same function decides both."""
    recipient = Recipient.of(message.contact, message.to_address)
    decision = recipient_window(recipient=recipient, at=at)
    zones = [ZoneInfo(name) for name in decision.zones]
    return zones or [ZoneInfo("UTC")]  # unknown: quiet hours hold the message anyway


def _next_sending_day(local: datetime, days: list[int]) -> datetime:
    ahead = next(n for n in range(1, 8) if (local.weekday() + n) % 7 in days)
    start = datetime.combine(local.date() + timedelta(days=ahead), time(0), local.tzinfo)
    return start.astimezone(UTC)
