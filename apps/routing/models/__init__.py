"""Routing's tables: intent phrases and routing rules (configuration, with history), the
follow-up tasks they create with their signals, escalations and notifications, and the
outbound CRM webhooks with their delivery log."""

from apps.routing.models.choices import (
    OPEN_STATUSES,
    AssignmentKind,
    EscalationKind,
    Intent,
    JourneyScope,
    NotificationKind,
    Outcome,
    Priority,
    SignalType,
    SlaClock,
    Strategy,
    TaskStatus,
    WebhookEvent,
)
from apps.routing.models.rules import IntentPhrase, RoutingRule, TeamCursor
from apps.routing.models.tasks import (
    FollowUpTask,
    TaskEscalation,
    TaskNotification,
    TaskSignal,
)
from apps.routing.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "OPEN_STATUSES",
    "AssignmentKind",
    "EscalationKind",
    "FollowUpTask",
    "Intent",
    "IntentPhrase",
    "JourneyScope",
    "NotificationKind",
    "Outcome",
    "Priority",
    "RoutingRule",
    "SignalType",
    "SlaClock",
    "Strategy",
    "TaskEscalation",
    "TaskNotification",
    "TaskSignal",
    "TaskStatus",
    "TeamCursor",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
