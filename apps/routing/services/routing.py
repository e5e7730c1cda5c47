"""From a signal to a follow-up task: match a rule, append to an open task for the same
contact and reason or create one for the right person, and tell them after commit."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.services import system_user
from apps.contacts.models import Contact
from apps.routing.errors import RoutingError
from apps.routing.hooks import CREATED, UPDATED, task_changes_fire
from apps.routing.models import (
    FollowUpTask,
    NotificationKind,
    Priority,
    RoutingRule,
    SignalType,
    TaskSignal,
    TaskStatus,
    WebhookEvent,
)
from apps.routing.services.assignment import Assignment, assignee_choose
from apps.routing.services.notifications import NotificationDraft, notifications_create
from apps.routing.services.rules import Signal, rule_match
from apps.routing.services.sla import sla_deadlines
from apps.routing.services.webhooks import signal_payload, task_payload, webhook_events_enqueue

URGENT_SLA_MINUTES = 5
HIGH_SLA_MINUTES = 15


def signal_route(
    *,
    contact: Contact,
    signal_type: str,
    reason: str,
    context: dict,
    journey_id: int | None = None,
    rule_hint=None,
) -> FollowUpTask | None:
    """The public entry point for signals from outside routing (a journey's create-task step).

    Returns the task the signal created or was appended to, or None when no rule applies.
    `context["key"]`, when given, makes the call idempotent: calling again with the same key
    returns the same task and changes nothing. `context["intent"]` and
    `context["confidence"]` may carry a classification made elsewhere."""
    if signal_type not in SignalType.values:
        raise RoutingError(
            f"{signal_type!r} is not a signal type: {', '.join(SignalType.values)}.",
            field="signal_type",
        )
    if not reason.strip():
        raise RoutingError("Say why someone should follow up.", field="reason")
    signal = Signal(
        contact=contact,
        signal_type=signal_type,
        reason=reason.strip()[:300],
        context=dict(context),
        intent=context.get("intent", ""),
        confidence=context.get("confidence"),
        journey_id=journey_id,
        key=str(context["key"])[:200] if context.get("key") else None,
    )
    return signal_receive(signal, rule_hint=rule_hint)


followup_signal_route = signal_route  # the name the journeys design uses


@transaction.atomic
def signal_receive(
    signal: Signal,
    *,
    rule_hint=None,
    at: datetime | None = None,
    rules: list[RoutingRule] | None = None,
) -> FollowUpTask | None:
    """Routes one signal. The contact's row is locked first, so that two signals for one
    contact take turns: one creates the task, the other finds and appends to it."""
    at = at or timezone.now()
    list(Contact.objects.select_for_update().filter(pk=signal.contact.pk).values_list("pk"))
    if signal.key:
        done = TaskSignal.objects.filter(key=signal.key).select_related("task").first()
        if done is not None:
            return done.task
    rule = rule_match(signal=signal, rule_hint=rule_hint, rules=rules).rule
    if rule is None:
        return None
    task = open_task_for(signal, rule, at)
    if task is not None:
        _signal_append(task, signal, rule, at)
        return task
    return _task_create(signal, rule, assignee_choose(rule=rule, contact=signal.contact, at=at), at)


def open_task_for(signal: Signal, rule: RoutingRule, at: datetime) -> FollowUpTask | None:
    """The contact's open task, created within the rule's window, whatever made it: a reply
    to a link someone clicked is the same person to call, so it lands on the same task."""
    since = at - timedelta(minutes=rule.dedupe_window_minutes)
    return (
        FollowUpTask.objects.open()
        .select_for_update()
        .filter(contact_id=signal.contact.pk, created_at__gte=since)
        .order_by("-created_at")
        .first()
    )


def task_priority(rule: RoutingRule) -> int:
    """The rule's priority, raised by a tight SLA: "call within 5 minutes" is urgent, within
    15 at least high, whatever the rule's priority field was left at."""
    if rule.sla_minutes <= URGENT_SLA_MINUTES:
        return Priority.URGENT
    if rule.sla_minutes <= HIGH_SLA_MINUTES:
        return min(rule.priority, Priority.HIGH)
    return rule.priority


def _task_create(
    signal: Signal, rule: RoutingRule, assignment: Assignment, at: datetime
) -> FollowUpTask:
    warn_at, due_at = sla_deadlines(rule=rule, start=at, owner=assignment.owner)
    task = FollowUpTask(
        contact=signal.contact,
        owner=assignment.owner,
        team=assignment.team,
        rule=rule,
        signal_type=signal.signal_type,
        intent=signal.intent,
        reason_code=signal.reason_code,
        reason=signal.reason,
        context=signal.context,
        journey_id=signal.journey_id,
        priority=task_priority(rule),
        status=TaskStatus.OPEN,
        assignment=assignment.kind,
        assignment_note=assignment.note,
        created_at=at,
        assigned_at=at if assignment.owner else None,
        sla_minutes=rule.sla_minutes,
        sla_clock=rule.sla_clock,
        warn_at=warn_at,
        due_at=due_at,
        last_signal_at=at,
    )
    task._history_user = system_user()
    task._change_reason = f"Routed by rule {rule.name}"[:100]
    task.save()
    row = _signal_row(task, signal, rule, at)
    _assignment_notify(task, rule)
    webhook_events_enqueue(
        [
            (WebhookEvent.TASK_CREATED, f"task.created:{task.pk}", task_payload(task)),
            (WebhookEvent.SIGNAL_RECEIVED, f"signal.received:{row.pk}", signal_payload(row)),
        ]
    )
    task_changes_fire([task.pk], change=CREATED, reason=task._change_reason, at=at)
    return task


def _signal_append(task: FollowUpTask, signal: Signal, rule: RoutingRule, at: datetime) -> None:
    row = _signal_row(task, signal, rule, at)
    task.signal_count += 1
    task.last_signal_at = at
    task.priority = min(task.priority, task_priority(rule))
    task.seen_at = None  # shows as new again for its owner
    _deadlines_tighten(task, rule, at)
    task._history_user = system_user()
    task._change_reason = f"Signal added: {signal.reason}"[:100]
    task.save(
        update_fields=[
            "signal_count", "last_signal_at", "priority", "seen_at", "sla_minutes", "warn_at",
            "due_at",
        ]
    )  # fmt: skip
    webhook_events_enqueue(
        [
            (
                WebhookEvent.TASK_UPDATED,
                f"task.updated:{task.pk}:signal:{row.pk}",
                task_payload(task),
            ),
            (WebhookEvent.SIGNAL_RECEIVED, f"signal.received:{row.pk}", signal_payload(row)),
        ]
    )
    task_changes_fire([task.pk], change=UPDATED, reason=task._change_reason, at=at)


def _deadlines_tighten(task: FollowUpTask, rule: RoutingRule, at: datetime) -> None:
    """A signal whose rule wants a faster answer brings an untouched task's due time forward
    (never back: a slower rule leaves the promise already made)."""
    if task.first_touch_at or task.warned_at or task.breached_at:
        return
    warn_at, due_at = sla_deadlines(rule=rule, start=at, owner=task.owner)
    if due_at < task.due_at:
        task.warn_at, task.due_at, task.sla_minutes = warn_at, due_at, rule.sla_minutes


def _signal_row(task: FollowUpTask, signal: Signal, rule: RoutingRule, at: datetime) -> TaskSignal:
    return TaskSignal.objects.create(
        task=task,
        key=signal.key,
        signal_type=signal.signal_type,
        intent=signal.intent,
        confidence=signal.confidence,
        reason=signal.reason,
        context=signal.context,
        event_id=signal.event_id,
        journey_id=signal.journey_id,
        rule=rule,
        received_at=at,
    )


def _assignment_notify(task: FollowUpTask, rule: RoutingRule) -> None:
    """The owner hears at once; a task nobody owns goes to the team manager's attention."""
    if task.owner_id:
        draft = NotificationDraft(
            task.pk, NotificationKind.ASSIGNED, task.owner_id, rule.notify_email, rule.notify_sms
        )
    elif task.team_id and task.team.manager_id:
        draft = NotificationDraft(
            task.pk, NotificationKind.QUEUED, task.team.manager_id, rule.notify_email, False
        )
    else:
        return
    notifications_create([draft], now=task.created_at)
