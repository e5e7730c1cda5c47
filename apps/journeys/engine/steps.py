"""What each kind of step does. A runner returns a Move; it never advances by itself, and
running it again for the same visit does the same thing (its send key is enrollment + step
+ visit), so a crash or a second worker never sends twice."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.contacts.models import Event
from apps.contacts.stages import lifecycle_reached
from apps.journeys.activity import activity_log
from apps.journeys.models import Activity, Enrollment, EnrollmentState, Step, StepKind
from apps.journeys.moments import event_moment, moment_label

DEFERRED_RECHECK = timedelta(hours=1)


@dataclass(frozen=True)
class Move:
    """Where the enrollment goes: to another step, to sleep on this one, or out."""

    to: str | None = None
    sleep_until: datetime | None = None
    end_state: str | None = None
    reason: str = ""


def _next(step: Step, reason: str = "") -> Move:
    target = (step.config or {}).get("next")
    return (
        Move(to=target, reason=reason)
        if target
        else Move(end_state=EnrollmentState.COMPLETED, reason=reason or "End of the journey.")
    )


def _visit(enrollment: Enrollment, step: Step) -> int:
    return int((enrollment.visits or {}).get(step.key, 1))


def run_send(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    from apps.library.models import MessageTemplate
    from apps.sends.services.messages import message_create

    if enrollment.is_holdout:
        activity_log(
            enrollment,
            Activity.Kind.DECISION,
            "In the holdout group: not messaged.",
            step_key=step.key,
        )
        return _next(step)
    template = MessageTemplate.objects.select_related("current_version").get(
        pk=step.config["template"]
    )
    message = message_create(
        send_key=f"journey:{enrollment.pk}:{step.key}:{_visit(enrollment, step)}",
        origin="journey",
        category=template.category,
        channel=template.channel,
        contact=enrollment.contact,
        template_version=template.current_version,
        journey_id=enrollment.journey_id,
        enrollment_id=enrollment.pk,
        step_id=step.pk,
        at=now,
    )
    return _after_send(enrollment, step, message, now)


def _after_send(enrollment: Enrollment, step: Step, message, now: datetime) -> Move:
    config = step.config or {}
    note = f"Message {message.pk}: {message.status}. {message.reason}"
    activity_log(
        enrollment,
        Activity.Kind.MESSAGE,
        note,
        step_key=step.key,
        message_id=message.pk,
        status=message.status,
        reason_code=message.reason_code,
    )
    if message.reason_code == "journey_goal":
        # The gate found a goal event whose hand-off has not run yet: nothing follows.
        return Move(end_state=EnrollmentState.GOAL_REACHED, reason=message.reason)
    if message.status in ("deferred", "held") and config.get("on_deferred", "wait") == "wait":
        # Wake after the sweep had its chance to release it, not in a tight loop before.
        until = max(message.next_attempt_at or now + DEFERRED_RECHECK, now + timedelta(minutes=1))
        return Move(
            sleep_until=max(until, now),
            reason=f"Waiting for the deferred message ({message.reason_code}).",
        )
    if (
        message.status in ("suppressed", "canceled", "failed")
        and config.get("on_suppressed") == "exit"
    ):
        return Move(
            end_state=EnrollmentState.SUPPRESSED, reason=f"Message not sent: {message.reason}"
        )
    return _next(step)


def run_wait(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    config = step.config or {}
    if config.get("until_property"):
        return _wait_for_event_time(enrollment, step, now)
    duration = timedelta(
        minutes=config.get("minutes", 0), hours=config.get("hours", 0), days=config.get("days", 0)
    )
    until = (enrollment.step_entered_at or now) + duration
    return _next(step) if now >= until else Move(sleep_until=until, reason=f"Waiting {duration}.")


def _wait_for_event_time(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    event = enrollment.triggering_event
    moment = event_moment(
        step.config,
        event.properties if event else None,
        zone=enrollment.contact.time_zone,
        now=now,
    )
    if moment.missed:
        return _edge(step, "on_missed", moment.reason)
    if now >= moment.at:
        return _next(step, f"It is {moment_label(step.config)}.")
    return Move(sleep_until=moment.at, reason=moment.reason)


def run_wait_until(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    config = step.config or {}
    since = enrollment.step_entered_at or now
    happened = (
        Event.objects.filter(
            contact_id=enrollment.contact_id,
            type__in=config.get("events", []),
            occurred_at__gte=since,
        )
        .order_by("occurred_at")
        .first()
    )
    if happened:
        return _edge(
            step, "next", f"{happened.type} happened at {happened.occurred_at:%Y-%m-%d %H:%M}."
        )
    deadline = since + timedelta(hours=config.get("within_hours", 0))
    if now >= deadline:
        return _edge(step, "on_timeout", f"No {' or '.join(config.get('events', []))} in time.")
    return Move(sleep_until=deadline, reason=f"Waiting for {', '.join(config.get('events', []))}.")


def _edge(step: Step, name: str, reason: str) -> Move:
    target = (step.config or {}).get(name)
    return (
        Move(to=target, reason=reason)
        if target
        else Move(end_state=EnrollmentState.COMPLETED, reason=reason)
    )


def run_branch(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    from apps.journeys.conditions import condition_holds

    holds, why = condition_holds(enrollment, (step.config or {}).get("condition") or {})
    activity_log(enrollment, Activity.Kind.DECISION, why, step_key=step.key, holds=holds)
    return _edge(step, "then" if holds else "else", why)


def run_split(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    variants = (step.config or {}).get("variants") or []
    chosen = (enrollment.variants or {}).get(step.key) or split_choose(
        enrollment.pk, step.key, variants
    )
    enrollment.variants = {**(enrollment.variants or {}), step.key: chosen}
    target = next((v.get("next") for v in variants if v.get("name") == chosen), None)
    activity_log(
        enrollment,
        Activity.Kind.DECISION,
        f"A/B split: variant {chosen}.",
        step_key=step.key,
        variant=chosen,
    )
    return (
        Move(to=target, reason=f"Variant {chosen}.")
        if target
        else Move(end_state=EnrollmentState.COMPLETED, reason=f"Variant {chosen} ends here.")
    )


def split_choose(enrollment_id: int, step_key: str, variants: list[dict]) -> str:
    """A stable, evenly spread choice: the same enrollment always gets the same variant."""
    digest = hashlib.sha256(f"{enrollment_id}:{step_key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % 100
    cumulative = 0
    for variant in variants:
        cumulative += variant.get("percent", 0)
        if point < cumulative:
            return variant.get("name")
    return variants[-1].get("name")


def run_create_task(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    from apps.routing.services import signal_route

    reason = (step.config or {}).get("reason") or f"Follow up from {enrollment.journey.name}"
    task = signal_route(
        contact=enrollment.contact,
        signal_type="journey_step",
        reason=reason,
        context={
            "enrollment_id": enrollment.pk,
            "step": step.key,
            "key": f"journey:{enrollment.pk}:{step.key}:{_visit(enrollment, step)}",
        },
        journey_id=enrollment.journey_id,
    )
    activity_log(
        enrollment,
        Activity.Kind.TASK,
        f"Follow-up task {getattr(task, 'pk', None)}: {reason}",
        step_key=step.key,
        task_id=getattr(task, "pk", None),
    )
    return _next(step)


def run_set_stage(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    from apps.contacts.services import contact_update

    stage = step.config["stage"]
    contact_update(contact=enrollment.contact, fields={"lifecycle_stage": stage})
    goal = enrollment.journey.exit_lifecycle_stage
    if goal and lifecycle_reached(stage, goal):
        # The goal is met now: the steps after this one must not run (a message would go
        # out before the stage-change event reaches the journeys' handler).
        return Move(
            end_state=EnrollmentState.GOAL_REACHED,
            reason=f"Goal reached: lifecycle stage reached {stage}.",
        )
    return _next(step, reason=f"Lifecycle stage set to {stage}.")


def run_exit(enrollment: Enrollment, step: Step, now: datetime) -> Move:
    # Completed, not exited: what earlier steps sent still goes out. "Exited" is kept for
    # a contact taken out of the journey, whose queued messages must stop.
    return Move(end_state=EnrollmentState.COMPLETED, reason="Reached an exit step.")


RUNNERS = {
    StepKind.SEND_SMS: run_send,
    StepKind.SEND_EMAIL: run_send,
    StepKind.WAIT: run_wait,
    StepKind.WAIT_UNTIL: run_wait_until,
    StepKind.BRANCH: run_branch,
    StepKind.SPLIT: run_split,
    StepKind.CREATE_TASK: run_create_task,
    StepKind.SET_LIFECYCLE_STAGE: run_set_stage,
    StepKind.EXIT: run_exit,
}
