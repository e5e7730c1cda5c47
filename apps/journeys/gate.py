"""The journeys' part of the send gate (rule 3): a message from a journey goes out only
while its enrollment runs, within the journey's own cap and sending days."""

from datetime import datetime, timedelta

from apps.journeys.models import Enrollment, EnrollmentState, Journey, JourneyStatus
from apps.sends.models import Decision, MessageStatus, OutboundMessage
from apps.sends.policy import GateResult

# A completed enrollment's last message still goes; these end what was queued.
STOPPED = {EnrollmentState.GOAL_REACHED, EnrollmentState.EXITED, EnrollmentState.FAILED}


def journey_gate_check(message, at: datetime) -> GateResult | None:
    if message.enrollment_id is None:
        return None
    enrollment = (
        Enrollment.objects.select_related("journey").filter(pk=message.enrollment_id).first()
    )
    if enrollment is None or enrollment.state not in EnrollmentState.running():
        state = enrollment.get_state_display().lower() if enrollment else "gone"
        return GateResult(
            Decision.SUPPRESS, "journey_ended", f"The contact's journey has ended ({state})."
        )
    journey = enrollment.journey
    if journey.status == JourneyStatus.ARCHIVED:
        return GateResult(Decision.SUPPRESS, "journey_archived", f"{journey.name} is archived.")
    if journey.status == JourneyStatus.PAUSED:
        return GateResult(
            Decision.DEFER,
            "journey_paused",
            f"{journey.name} is paused.",
            until=at + timedelta(hours=1),
        )
    return _cap(message, journey, at) or _weekday(journey, at)


def _cap(message, journey: Journey, at: datetime) -> GateResult | None:
    if not journey.cap_messages or not journey.cap_hours:
        return None
    used = (
        OutboundMessage.objects.filter(
            journey_id=journey.pk,
            contact_id=message.contact_id,
            status__in=MessageStatus.reserving(),
            queued_at__gte=at - timedelta(hours=journey.cap_hours),
        )
        .exclude(pk=message.pk)
        .count()
    )
    if used < journey.cap_messages:
        return None
    return GateResult(
        Decision.SUPPRESS,
        "journey_cap",
        f"{journey.name} already sent {used} in {journey.cap_hours} h "
        f"(its cap is {journey.cap_messages}).",
        inputs={"used": used},
    )


def _weekday(journey: Journey, at: datetime) -> GateResult | None:
    days = journey.send_weekdays or []
    if not days or at.weekday() in days:
        return None
    ahead = next(n for n in range(1, 8) if (at.weekday() + n) % 7 in days)
    start = (at + timedelta(days=ahead)).replace(hour=0, minute=0, second=0, microsecond=0)
    return GateResult(
        Decision.DEFER,
        "journey_send_days",
        f"{journey.name} sends only on its sending days.",
        until=start,
    )
