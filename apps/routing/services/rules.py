"""Which routing rule a signal gets: the first active one, in order, whose conditions hold."""

from dataclasses import dataclass, field

from apps.contacts.models import Contact
from apps.contacts.segments import SegmentRulesError, segment_contacts
from apps.routing.models import Intent, JourneyScope, RoutingRule, SignalType


@dataclass(frozen=True)
class Signal:
    """Something that may deserve a follow-up, before any rule has looked at it."""

    contact: Contact
    signal_type: str
    reason: str
    context: dict = field(default_factory=dict)
    intent: str = ""
    confidence: float | None = None
    journey_id: int | None = None
    key: str | None = None  # idempotency: the same key is routed once
    event_id: int | None = None

    @property
    def reason_code(self) -> str:
        """What de-duplicates tasks: the kind of signal (a journey's own steps apart)."""
        if self.signal_type == SignalType.JOURNEY_STEP and self.journey_id:
            return f"{self.signal_type}:{self.journey_id}"
        return self.signal_type


@dataclass(frozen=True)
class RuleCheck:
    rule: RoutingRule
    matched: bool
    why: str


@dataclass(frozen=True)
class RuleMatch:
    rule: RoutingRule | None
    checks: list[RuleCheck]


def rules_active() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(is_active=True).select_related("team").order_by("position", "id")
    )


def rule_match(
    *, signal: Signal, rule_hint=None, rules: list[RoutingRule] | None = None
) -> RuleMatch:
    """The rule for the signal, with the reason each rule before it did not apply.

    `rule_hint` (a rule, its id or its name) names the rule to use when it is active: the
    caller (e.g. a journey's create-task step) chose it on purpose, so its conditions are
    not checked again."""
    hinted = _hinted(rule_hint)
    if hinted is not None:
        return RuleMatch(hinted, [RuleCheck(hinted, True, "Chosen by the caller (rule hint).")])
    checks = []
    for rule in rules_active() if rules is None else rules:
        why = rule_mismatch(rule, signal)
        checks.append(RuleCheck(rule, why is None, why or "Every condition holds."))
        if why is None:
            return RuleMatch(rule, checks)
    return RuleMatch(None, checks)


def _hinted(rule_hint) -> RoutingRule | None:
    if rule_hint is None or rule_hint == "":
        return None
    active = RoutingRule.objects.filter(is_active=True).select_related("team")
    if isinstance(rule_hint, RoutingRule):
        return active.filter(pk=rule_hint.pk).first()
    if isinstance(rule_hint, int) or (isinstance(rule_hint, str) and rule_hint.isdigit()):
        return active.filter(pk=int(rule_hint)).first()
    return active.filter(name=rule_hint).first()


def rule_mismatch(rule: RoutingRule, signal: Signal) -> str | None:
    """None when every condition holds, else the first one that does not, in words."""
    if rule.signal_types and signal.signal_type not in rule.signal_types:
        return f"The signal is {_label(SignalType, signal.signal_type)}; the rule wants " + (
            ", ".join(_label(SignalType, s) for s in rule.signal_types)
        )
    if rule.intents and signal.intent not in rule.intents:
        intent = _label(Intent, signal.intent) if signal.intent else "none"
        return f"The intent is {intent}; the rule wants {', '.join(rule.intents)}"
    if signal.confidence is not None and signal.confidence < rule.min_confidence:
        return f"Confidence {signal.confidence:.2f} is below the rule's {rule.min_confidence:.2f}"
    if rule.journey_scope == JourneyScope.IN_JOURNEY and not signal.journey_id:
        return "The signal did not come from a journey"
    if rule.journey_scope == JourneyScope.OUTSIDE_JOURNEY and signal.journey_id:
        return "The signal came from a journey"
    if rule.journey_id and signal.journey_id != rule.journey_id:
        return f"The signal is not from journey {rule.journey_id}"
    if rule.contact_rules:
        return _contact_mismatch(rule, signal.contact)
    return None


def _contact_mismatch(rule: RoutingRule, contact: Contact) -> str | None:
    try:
        matches = segment_contacts(rules=rule.contact_rules).filter(pk=contact.pk).exists()
    except SegmentRulesError as error:
        return f"The rule's contact conditions are invalid: {error.message}"
    return None if matches else "The contact does not match the rule's contact conditions"


def _label(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value)).split(":")[0].lower()
