"""What would happen to a signal, without anything happening: the rule it would get (and why
the rules before it did not apply), the owner it would go to, its due time, or the open task
it would be added to. Nothing is written; the round-robin cursor is only read."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.contacts.models import Contact
from apps.routing.intent import IntentResult, intent_classify
from apps.routing.models import FollowUpTask, RoutingRule, SignalType
from apps.routing.services.assignment import Assignment, assignee_choose
from apps.routing.services.routing import open_task_for
from apps.routing.services.rules import RuleCheck, Signal, rule_match
from apps.routing.services.sla import sla_deadlines


@dataclass(frozen=True)
class DryRun:
    signal: Signal
    classification: IntentResult | None
    checks: list[RuleCheck]
    rule: RoutingRule | None
    existing_task: FollowUpTask | None
    assignment: Assignment | None
    warn_at: datetime | None
    due_at: datetime | None

    @property
    def summary(self) -> str:
        if self.rule is None:
            return "No rule applies: no task would be created."
        if self.existing_task is not None:
            return f"Rule “{self.rule}”: added to open task #{self.existing_task.pk}."
        who = self.assignment.owner.display_name if self.assignment.owner else "the team queue"
        return f"Rule “{self.rule}”: a new task for {who}."


def rule_dry_run(
    *,
    contact: Contact,
    signal_type: str,
    text: str = "",
    journey_id: int | None = None,
    rule_hint=None,
    at: datetime | None = None,
) -> DryRun:
    """For a reply, `text` is classified as it would be on arrival."""
    at = at or timezone.now()
    classification = (
        intent_classify(text) if signal_type == SignalType.REPLY and text.strip() else None
    )
    signal = Signal(
        contact=contact,
        signal_type=signal_type,
        reason=text or SignalType(signal_type).label,
        intent=classification.intent if classification else "",
        confidence=classification.confidence if classification else None,
        journey_id=journey_id,
    )
    match = rule_match(signal=signal, rule_hint=rule_hint)
    if match.rule is None:
        return DryRun(signal, classification, match.checks, None, None, None, None, None)
    with transaction.atomic():  # the lookup locks what it finds; a dry run writes nothing
        existing = open_task_for(signal, match.rule, at)
    if existing is not None:
        return DryRun(signal, classification, match.checks, match.rule, existing, None, None, None)
    assignment = assignee_choose(rule=match.rule, contact=contact, at=at, claim=False)
    warn_at, due_at = sla_deadlines(rule=match.rule, start=at, owner=assignment.owner)
    return DryRun(
        signal, classification, match.checks, match.rule, None, assignment, warn_at, due_at
    )
