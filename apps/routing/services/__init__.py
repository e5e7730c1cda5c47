"""Routing's writes. `signal_route` is the public entry point for signals from other apps."""

from apps.routing.services.dry_run import DryRun, rule_dry_run
from apps.routing.services.notifications import notification_send, notifications_unsent_sweep
from apps.routing.services.queue import task_may_take, task_take
from apps.routing.services.routing import followup_signal_route, signal_receive, signal_route
from apps.routing.services.rules import Signal, rule_match
from apps.routing.services.sla import sla_sweep
from apps.routing.services.webhooks import (
    webhook_deliver,
    webhook_deliveries_send,
    webhook_signature,
    webhooks_due_sweep,
)
from apps.routing.services.work import (
    Completion,
    task_complete,
    task_hand_back,
    task_reassign,
    task_reply,
    task_seen,
    task_start,
)

__all__ = [
    "Completion",
    "DryRun",
    "Signal",
    "followup_signal_route",
    "notification_send",
    "notifications_unsent_sweep",
    "rule_dry_run",
    "rule_match",
    "signal_receive",
    "signal_route",
    "sla_sweep",
    "task_complete",
    "task_hand_back",
    "task_may_take",
    "task_reassign",
    "task_reply",
    "task_seen",
    "task_start",
    "task_take",
    "webhook_deliver",
    "webhook_deliveries_send",
    "webhook_signature",
    "webhooks_due_sweep",
]
