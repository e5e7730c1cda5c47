"""A contact who exists only in the simulator: described by stage, intent, place, phone and
consent, built as an UNSAVED Contact. The CRM's SQL cannot see such a contact, so segment
rules are read here in Python (mirroring apps.contacts.segments), and the send gate runs
its own checks in its own order with the described consent in place of the ledger."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from apps.consent.models import Channel, ConsentStatus, Purpose
from apps.contacts.models import Contact, IntentBand, LifecycleStage, Segment
from apps.contacts.segments.fields import FIELDS
from apps.contacts.segments.registry import MAX_DEPTH
from apps.contacts.stages import lifecycle_at_or_after, lifecycle_label, lifecycle_meaning
from apps.sends import policy
from apps.sends.policy import GateResult


@dataclass(frozen=True)
class ContactDescription:
    """What the simulator is told about a contact who need not exist."""

    lifecycle_stage: str = LifecycleStage.LEAD
    kind: str = "prospect"
    intent_band: str = IntentBand.LOW
    buying_role: str = ""
    time_zone: str = ""
    region: str = ""
    country: str = "US"
    phone: str = ""
    email: str = ""
    first_name: str = ""
    sms_consent: str = ConsentStatus.OPTED_IN  # for SMS marketing (and transactional)
    email_consent: str = ConsentStatus.NONE

    def contact(self) -> Contact:
        """An unsaved Contact: it has no id, no events, no opportunities, no history."""
        return Contact(
            first_name=self.first_name,
            lifecycle_stage=self.lifecycle_stage,
            kind=self.kind,
            intent_band=self.intent_band,
            intent_score=_score_for(self.intent_band),
            buying_role=self.buying_role,
            time_zone=self.time_zone,
            region=self.region,
            country=self.country or "US",
            phone=self.phone,
            email=self.email,
        )

    def consent_status(self, channel: str, purpose: str) -> str:
        return self.sms_consent if channel == Channel.SMS else self.email_consent

    def label(self) -> str:
        stage = lifecycle_label(self.lifecycle_stage).lower()
        place = self.time_zone or self.region or "an unknown place"
        return f"a described {self.intent_band}-intent {stage} in {place}"


def _score_for(band: str) -> float:
    if band == IntentBand.HIGH:
        return settings.INTENT_HIGH_SCORE
    return settings.INTENT_MEDIUM_SCORE if band == IntentBand.MEDIUM else 0.0


# --- segment rules, read in Python -------------------------------------------------------


@dataclass(frozen=True)
class DescribedFacts:
    """All the described contact has: itself, its consent, and the one event being tried."""

    contact: Contact
    description: ContactDescription
    event_type: str = ""
    event_properties: dict | None = None
    now: datetime | None = None


def described_rules_hold(rules: dict, facts: DescribedFacts, depth: int = 0) -> bool:
    """The rules (already validated) for a contact who is not in the database."""
    if depth > MAX_DEPTH or not isinstance(rules, dict):
        return False
    if "all" in rules:
        return all(described_rules_hold(rule, facts, depth + 1) for rule in rules["all"])
    if "any" in rules:
        return any(described_rules_hold(rule, facts, depth + 1) for rule in rules["any"])
    if "not" in rules:
        return not described_rules_hold(rules["not"], facts, depth + 1)
    for kind, holds in _CONDITIONS.items():
        if kind in rules:
            return holds(rules, facts, depth)
    return False  # a condition kind this reader does not know: taken as not holding


def _field(rule: dict, facts: DescribedFacts, depth: int) -> bool:
    spec, op, value = FIELDS[rule["field"]], rule["op"], rule.get("value")
    actual = _value_of(facts, rule["field"])
    if op == "not_in":
        return not _field({**rule, "op": "in"}, facts, depth)
    if op == "is_not_empty":
        return not _field({**rule, "op": "is_empty"}, facts, depth)
    if op == "is_empty":
        return actual in (None, "")
    if spec.type == "text":
        wanted = value if op == "in" else [value]
        return actual is not None and str(actual).lower() in {str(v).lower() for v in wanted}
    if op in ("at_or_after", "before"):
        later = actual in lifecycle_at_or_after(value)
        return later if op == "at_or_after" else not later
    if op in ("within_days", "older_than_days"):
        return op == "within_days"  # a described contact is new: created just now
    return _compare(op, actual, value)


def _compare(op: str, actual, value) -> bool:
    if op == "in":
        return actual in value
    if op == "eq":
        return actual == value
    if actual is None:
        return False
    return actual >= value if op == "gte" else actual <= value


def _value_of(facts: DescribedFacts, name: str):
    if name in ("owner", "company") or name.startswith("company."):
        return None  # a described contact has no owner and no company
    if name == "lifecycle_meaning":
        return lifecycle_meaning(facts.contact.lifecycle_stage)
    return getattr(facts.contact, name, None)


def _event(rule: dict, facts: DescribedFacts, depth: int) -> bool:
    """The only event a described contact has is the one being simulated."""
    properties = facts.event_properties or {}
    same = facts.event_type == rule["event"] and all(
        properties.get(key) == value for key, value in (rule.get("properties") or {}).items()
    )
    happened = same and rule.get("min_count", 1) <= 1
    return happened if rule.get("occurred", True) else not happened


def _opportunity(rule: dict, facts: DescribedFacts, depth: int) -> bool:
    return not rule.get("exists", True)  # a described contact has no opportunity


def _consent(rule: dict, facts: DescribedFacts, depth: int) -> bool:
    details = rule["consent"]
    status = facts.description.consent_status(details["channel"], details["purpose"])
    return status in details["status"]


def _segment(rule: dict, facts: DescribedFacts, depth: int) -> bool:
    segment = Segment.objects.filter(pk=rule["segment"]).only("rules").first()
    return segment is not None and described_rules_hold(segment.rules, facts, depth + 1)


def _attribute(rule: dict, facts: DescribedFacts, depth: int) -> bool:
    """A described contact has no custom attributes: only "not set" and "not in" hold."""
    return rule["op"] in ("is_not_set", "not_in")


_CONDITIONS = {
    "field": _field,
    "event": _event,
    "opportunity": _opportunity,
    "consent": _consent,
    "segment": _segment,
    "attribute": _attribute,
    # A described contact has no company and no opportunity: their attributes are unset.
    "company_attribute": _attribute,
    "opportunity_attribute": _attribute,
}


# --- the send gate ------------------------------------------------------------------------


def described_gate(message, at: datetime, description: ContactDescription) -> GateResult:
    """`policy.gate_evaluate` for a message to an unsaved contact: the same checks in the
    same order, except that consent comes from the description and the caps and the
    duplicate check find nothing (the contact has never been sent anything)."""
    overrides = {
        "consent": lambda m, when, facts: _described_consent(m, description),
        "pending_consent": lambda m, when, facts: _described_pending(m, description),
        "caps": lambda m, when, facts: None,
        "duplicate": lambda m, when, facts: None,
    }
    facts = policy.GateFacts()
    for name in policy._CHECKS_BY_ORIGIN[message.origin]:
        result = overrides.get(name, policy._CHECKS[name])(message, at or timezone.now(), facts)
        if result is not None:
            return result
    return policy.ALLOW


def _described_consent(message, description: ContactDescription) -> GateResult | None:
    status = description.consent_status(message.channel, Purpose.MARKETING)
    if message.category == "marketing":
        if status == ConsentStatus.OPTED_IN:
            return None
        return policy._no_consent(message, status, "Marketing needs an active, confirmed opt-in")
    if status != ConsentStatus.OPTED_OUT:
        return None
    return policy._no_consent(message, status, "Transactional messages stop after an opt-out")


def _described_pending(message, description: ContactDescription) -> GateResult | None:
    status = description.consent_status(Channel.SMS, Purpose.MARKETING)
    if status == ConsentStatus.PENDING:
        return None
    return policy._no_consent(message, status, "A double opt-in request needs a pending opt-in")
