"""The segment condition on current consent, registered with contacts' segment compiler:

    {"consent": {"channel": "sms", "purpose": "marketing", "status": ["opted_in"]}}

A contact with no consent state for the channel and purpose has the status "none".
"""

from django.db.models import Exists, OuterRef, Q

from apps.consent.models import Channel, ConsentState, ConsentStatus, Purpose
from apps.contacts.segments import (
    SegmentContext,
    choice_error,
    choices_check,
    quoted,
    rule_error,
    rule_keys_check,
    rule_path,
    segment_condition_register,
)
from apps.contacts.segments.catalogue import segment_catalogue_register

KIND = "consent"
_CHOICES = {"channel": (Channel.values, "channel"), "purpose": (Purpose.values, "purpose")}


def consent_condition_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    errors = rule_keys_check(rule, path, required=[KIND])
    at, details = rule_path(path, KIND), rule[KIND]
    if not isinstance(details, dict):
        example = {"channel": "sms", "purpose": "marketing", "status": ["opted_in"]}
        return [*errors, rule_error(at, f"give an object, e.g. {quoted(example)}")]
    errors += rule_keys_check(details, at, required=["channel", "purpose", "status"])
    for key, (allowed, noun) in _CHOICES.items():
        if key in details and details[key] not in allowed:
            errors.append(
                choice_error(rule_path(at, key), details[key], allowed=allowed, noun=noun)
            )
    if "status" in details:
        errors += choices_check(
            details["status"],
            rule_path(at, "status"),
            allowed=ConsentStatus.values,
            noun="consent status",
        )
    return errors


def consent_condition_compile(rule: dict, context: SegmentContext) -> Q:
    details = rule[KIND]
    states = ConsentState.objects.filter(
        contact=OuterRef("pk"), channel=details["channel"], purpose=details["purpose"]
    )
    matches = Q(Exists(states.filter(status__in=details["status"])))
    if ConsentStatus.NONE in details["status"]:
        # No state row at all means nobody ever recorded consent: that is "none" too.
        matches |= ~Q(Exists(states))
    return matches


def consent_condition_describe() -> dict:
    """What the segment builder offers for a consent rule."""
    return {
        "channels": _options(Channel.choices),
        "purposes": _options(Purpose.choices),
        "statuses": _options(ConsentStatus.choices),
    }


def _options(pairs) -> list[dict]:
    return [{"value": value, "label": str(label)} for value, label in pairs]


def consent_condition_register() -> None:
    segment_condition_register(KIND, consent_condition_compile, consent_condition_validate)
    segment_catalogue_register(KIND, consent_condition_describe)
