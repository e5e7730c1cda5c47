"""The one policy gate every message passes, at creation and again at dispatch.

`gate_evaluate` runs the checks in order — suppression, consent, preferences, journey
state, quiet hours, frequency caps, duplicates — and returns the first refusal, or allow.
The checks read what they need through a `GateFacts`: this one asks the database per
message; the batch form (apps/sends/gate_batch.py) answers the same questions from one
query per question per batch, so a decision is the same whichever path made it.
The caller holds the contact's row lock (`contact_lock`) so that counting for the caps and
inserting the message happen as one step under concurrency. Every decision is recorded with
its inputs so anyone can later ask "why did (or didn't) she get this?".
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from apps.consent.models import Channel, ConsentStatus, Preference, Purpose, Suppression
from apps.consent.selectors import AddressConsent, consent_of_ledger
from apps.consent.services import ConsentError, address_normalize, addresses_same
from apps.contacts.models import Contact
from apps.sends.models import (
    Decision,
    FrequencyCap,
    MessageCategory,
    MessageOrigin,
    MessageStatus,
    OutboundMessage,
)
from apps.sends.quiet_hours import (
    Recipient,
    applicable_state_rules,
    load_rules,
    recipient_window,
)


@dataclass(frozen=True)
class GateResult:
    decision: str
    reason_code: str
    reason: str
    until: datetime | None = None
    inputs: dict = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.decision == Decision.ALLOW


ALLOW = GateResult(Decision.ALLOW, "allowed", "Every rule allows it.")
# Whatever the origin: an erased person is never messaged again as that contact.
ERASED = GateResult(Decision.SUPPRESS, "contact_erased", "The contact's data was erased.")

# Journeys (a higher app) register a check here: (message, at, store) -> GateResult | None,
# and optionally a prefetch (messages, at, store) the batch form calls once per batch; the
# check reads the store when it holds the answer and asks the database when it does not.
# A check runs for the origins it names (journeys' messages unless it says more).
ExtraCheck = Callable[[object, datetime, dict], GateResult | None]
ExtraPrefetch = Callable[[list, datetime, dict], None]
_extra_checks: dict[str, tuple[ExtraCheck, ExtraPrefetch | None, frozenset[str]]] = {}


def gate_check_register(
    name: str,
    check: ExtraCheck,
    prefetch: ExtraPrefetch | None = None,
    *,
    origins: tuple[str, ...] = (MessageOrigin.JOURNEY,),
):
    _extra_checks[name] = (check, prefetch, frozenset(origins))


def gate_extra_prefetch(messages: list, at: datetime, store: dict) -> None:
    for _, prefetch, _ in _extra_checks.values():
        if prefetch is not None:
            prefetch(messages, at, store)


class GateFacts:
    """What the checks read about a message, asked of the database one message at a time.
    Every answer is the same function of the rows as the batch form's (gate_batch.py)."""

    def __init__(self):
        self.store: dict = {}  # the extra checks' own answers (filled by a batch prefetch)
        # What each check found for the message at hand when it let it through: an allowed
        # message's "why sent" names every rule with its input, not only "every rule allows".
        self.passed: list[dict] = []

    def erased(self, message) -> bool:
        """Read from the row, not the caller's copy: the caller holds the contact's lock,
        and a copy loaded before an erasure committed would still say "not erased"."""
        if message.contact_id is None:
            return False
        return Contact.objects.filter(pk=message.contact_id, erased_at__isnull=False).exists()

    def suppression(self, message) -> Suppression | None:
        key = suppression_key(message)
        entries = Suppression.objects.of_address(key, message.channel)
        return entries.order_by("created_at", "pk").first()

    def consent(self, message, purpose: str) -> AddressConsent:
        return consent_of_ledger(contact=message.contact, channel=message.channel, purpose=purpose)

    def preference(self, message):
        contact = message.contact
        if contact is None or contact.pk is None:
            return None
        return Preference.objects.filter(contact_id=contact.pk).first()

    def caps(self, message) -> list:
        return list(
            FrequencyCap.objects.filter(
                is_active=True, channel=message.channel, category=message.category
            ).order_by("pk")
        )

    def reserved(self, message, since: datetime) -> int:
        return (
            OutboundMessage.objects.filter(
                contact=message.contact,
                channel=message.channel,
                category=message.category,
                status__in=MessageStatus.reserving(),
            )
            .filter(counts_since(since))
            .exclude(pk=message.pk)
            .count()
        )

    def twin(self, message, since: datetime):
        return (
            OutboundMessage.objects.filter(
                contact=message.contact,
                template_version_id=message.template_version_id,
                status__in=MessageStatus.reserving(),
            )
            .filter(counts_since(since))
            .exclude(pk=message.pk)
            .order_by("pk")
            .first()
        )


# Which checks each origin goes through. A STOP confirmation must reach a number that
# just opted out; an alert to a rep is not marketing to a contact.
_CHECKS_BY_ORIGIN = {
    MessageOrigin.JOURNEY: (
        "suppression",
        "consent",
        "preferences",
        "extra",
        "quiet_hours",
        "caps",
        "duplicate",
    ),
    # "extra" runs the registered checks that name the origin: the sender rule names every
    # origin but keyword replies, so no marketing text leaves from an unregistered sender.
    MessageOrigin.REP_REPLY: ("suppression", "consent", "preferences", "extra", "quiet_hours"),
    MessageOrigin.DOUBLE_OPT_IN: ("suppression", "pending_consent", "extra", "quiet_hours"),
    MessageOrigin.TEST_SEND: ("suppression", "extra"),
    MessageOrigin.NOTIFICATION: ("suppression", "extra"),
    MessageOrigin.KEYWORD_REPLY: (),
}


def gate_evaluate(*, message, at: datetime) -> GateResult:
    """Decides allow / defer until T / hold / suppress for one message at moment `at`."""
    return gate_decide(message=message, at=at, facts=GateFacts())


def gate_decide(*, message, at: datetime, facts: GateFacts) -> GateResult:
    """The checks of the message's origin in order, reading through `facts`."""
    if facts.erased(message):
        return ERASED
    facts.passed = []
    for name in _CHECKS_BY_ORIGIN[message.origin]:
        result = _CHECKS[name](message, at, facts)
        if result is not None:
            return result
    return GateResult(
        ALLOW.decision, ALLOW.reason_code, ALLOW.reason, inputs={"passed": facts.passed}
    )


def gate_checks(origin: str) -> tuple[str, ...]:
    return _CHECKS_BY_ORIGIN[origin]


def _suppression(message, at, facts: GateFacts) -> GateResult | None:
    """The address itself, whoever owns it now: a STOP, an unsubscribe or a complaint
    binds the number (or email) it came from."""
    entry = facts.suppression(message)
    if entry is None:
        facts.passed.append({"rule": "suppression"})
        return None
    return GateResult(
        Decision.SUPPRESS,
        f"suppressed_{entry.reason}",
        f"{message.to_address} is on the suppression list: {entry.get_reason_display()}.",
        inputs={"suppression_id": entry.pk, "since": entry.created_at.isoformat()},
    )


def suppression_key(message) -> str:
    """The address as the suppression list stores it (E.164; email in lower case)."""
    try:
        return address_normalize(message.to_address, message.channel)
    except ConsentError:
        return message.to_address


def _consent_status(message, purpose: str, facts: GateFacts) -> str:
    """Replayed from the ledger, never read from the state row (a copy that could drift),
    and only for the address the consent was given for."""
    found = facts.consent(message, purpose)
    if _given_elsewhere(message, found.given_for):
        return ConsentStatus.NONE
    return found.status


def _consent(message, at, facts: GateFacts) -> GateResult | None:
    if message.contact is None:
        return GateResult(Decision.SUPPRESS, "no_contact", "A message to a contact needs one.")
    if message.category == MessageCategory.MARKETING:
        found = facts.consent(message, Purpose.MARKETING)
        if _given_elsewhere(message, found.given_for):
            return _other_address(message, found.given_for)
        if found.status == ConsentStatus.OPTED_IN:
            facts.passed.append(_consent_passed(Purpose.MARKETING, found))
            return None
        return _no_consent(message, found.status, "Marketing needs an active, confirmed opt-in")
    status = _consent_status(message, Purpose.TRANSACTIONAL, facts)
    if status != ConsentStatus.OPTED_OUT:
        facts.passed.append({"rule": "consent", "purpose": Purpose.TRANSACTIONAL, "status": status})
        return None
    return _no_consent(message, status, "Transactional messages stop after an opt-out")


def _consent_passed(purpose: str, found: AddressConsent) -> dict:
    latest = found.latest
    return {
        "rule": "consent",
        "purpose": purpose,
        "status": found.status,
        "record_id": latest.pk if latest else None,
        "recorded_at": latest.occurred_at.isoformat() if latest else None,
        "source": latest.source if latest else None,
    }


def _given_elsewhere(message, given_for: str | None) -> bool:
    return given_for is not None and not addresses_same(
        given_for, message.to_address, message.channel
    )


def _other_address(message, given_for: str) -> GateResult:
    """Consent belongs to the address it was given for, e.g. the contact's old number."""
    return GateResult(
        Decision.SUPPRESS,
        "consent_other_address",
        f"Consent was given for {given_for}, not for {message.to_address}: "
        "it does not carry over to a new address.",
        inputs={"consent_status": ConsentStatus.NONE, "consent_given_for": given_for},
    )


_CONSENT_WORDS = {
    ConsentStatus.NONE: "no {channel} consent is on record",
    ConsentStatus.PENDING: "{channel} consent is awaiting confirmation",
    ConsentStatus.OPTED_OUT: "the contact opted out of {channel}",
    ConsentStatus.OPTED_IN: "{channel} consent is active",
}


def _no_consent(message, status: str, why: str) -> GateResult:
    channel = "SMS" if message.channel == Channel.SMS else message.channel
    return GateResult(
        Decision.SUPPRESS,
        f"consent_{status}",
        f"{why}; {_CONSENT_WORDS[status].format(channel=channel)}.",
        inputs={"consent_status": status},
    )


def _pending_consent(message, at, facts: GateFacts) -> GateResult | None:
    status = _consent_status(message, Purpose.MARKETING, facts)
    if status == ConsentStatus.PENDING:
        return None
    return _no_consent(message, status, "A double opt-in request needs a pending opt-in")


_PREFERENCE_SWITCHES = {
    Channel.SMS: ("sms_enabled", "preference_sms_off", "The contact turned SMS off"),
    Channel.EMAIL: ("email_enabled", "preference_email_off", "The contact turned email off"),
}


def _preferences(message, at, facts: GateFacts) -> GateResult | None:
    """What the contact told us they want: a channel turned off refuses everything on it;
    topics, when they named some, admit only marketing tagged with one of them."""
    preference = facts.preference(message)
    if preference is None:
        facts.passed.append({"rule": "preferences", "set": False})
        return None
    switch, code, why = _PREFERENCE_SWITCHES[message.channel]
    if not getattr(preference, switch):
        return GateResult(Decision.SUPPRESS, code, f"{why} in their preferences.")
    wanted = {topic.strip().casefold() for topic in preference.topics or [] if topic.strip()}
    if not wanted or message.category != MessageCategory.MARKETING:
        facts.passed.append({"rule": "preferences", "set": True, "topics": []})
        return None
    tags = _message_topics(message)
    if tags & wanted:
        facts.passed.append({"rule": "preferences", "set": True, "topics": sorted(tags & wanted)})
        return None
    return GateResult(
        Decision.SUPPRESS,
        "preference_topic_unsubscribed",
        f"The contact wants only {', '.join(sorted(wanted))}; this message is about "
        f"{', '.join(sorted(tags)) or 'no topic'}.",
        inputs={"topics_wanted": sorted(wanted), "message_topics": sorted(tags)},
    )


def _message_topics(message) -> set[str]:
    """A message is about its template's tags (e.g. "webinar, onboarding")."""
    version = message.template_version
    tags = version.template.tags if version is not None else ""
    return {tag.strip().casefold() for tag in tags.split(",") if tag.strip()}


def _extra(message, at, facts: GateFacts) -> GateResult | None:
    ran = []
    for name, (check, _, origins) in _extra_checks.items():
        if message.origin not in origins:
            continue
        result = check(message, at, facts.store)
        if result is not None:
            return result
        ran.append(name)
    facts.passed.append({"rule": "extra", "checks": ran})
    return None


def quiet_hours_cover(message) -> bool:
    """Whether the message is held to its recipient's window: by the gate, and by dispatch's
    ValidityPeriod (a text the gate let through must not wait at Twilio into quiet time)."""
    return (
        message.channel == Channel.SMS
        and message.contact is not None
        and "quiet_hours" in _CHECKS_BY_ORIGIN[message.origin]
    )


def _quiet_hours(message, at, facts: GateFacts) -> GateResult | None:
    if not quiet_hours_cover(message):
        return None
    decision = recipient_window(recipient=Recipient.of(message.contact, message.to_address), at=at)
    inputs = {
        "zones": list(decision.zones),
        "zone_source": decision.zone_source,
        "window_rule": decision.window_rule,
    }
    if decision.allowed:
        local = [f"{at.astimezone(ZoneInfo(zone)):%H:%M}" for zone in decision.zones]
        facts.passed.append({"rule": "quiet_hours", **inputs, "local_times": local})
        return None
    if decision.held:
        return GateResult(
            Decision.HOLD, decision.hold_code or "zone_unknown", decision.reason, inputs=inputs
        )
    return GateResult(
        Decision.DEFER,
        "quiet_hours",
        decision.reason,
        until=decision.next_allowed_at,
        inputs=inputs,
    )


def _personal_window(contact: Contact) -> tuple[time, time] | None:
    return Recipient.of(contact, None).personal_window


def contact_states(contact: Contact, phone: str) -> set[str]:
    """The US states whose rules cover this contact: address state and phone area code."""
    rules = applicable_state_rules(
        region=contact.region or None,
        country=contact.country or "US",
        phone_e164=phone,
        rules=load_rules(),
    )
    return {rule.state for rule in rules} | ({contact.region} if contact.region else set())


def _caps(message, at, facts: GateFacts) -> GateResult | None:
    states, counted = None, []
    for cap in facts.caps(message):
        if cap.region:
            states = (
                states
                if states is not None
                else contact_states(message.contact, message.to_address)
            )
            if cap.region not in states:
                continue
        used = facts.reserved(message, at - timedelta(hours=cap.window_hours))
        if used >= cap.max_messages:
            return GateResult(
                Decision.SUPPRESS,
                "frequency_cap",
                f"Frequency cap reached: {used} of {cap} already sent or reserved.",
                inputs={"cap_id": cap.pk, "used": used},
            )
        counted.append({"cap": cap.name, "used": used, "max": cap.max_messages})
    facts.passed.append({"rule": "caps", "counts": counted})
    return None


def counts_since(since: datetime) -> Q:
    """Which messages count against a cap window starting at `since`: a message counts from
    when it went out (sent_at), not when it was queued — one queued 24 h 05 min ago but sent
    23 h 30 min ago is inside a 24-hour window. One still waiting for its transport (queued,
    sending) holds its place whatever its age: it goes out now or never."""
    return (
        Q(sent_at__gte=since)
        | Q(sent_at__isnull=True, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
        | Q(sent_at__isnull=True, queued_at__gte=since)
    )


def _duplicate(message, at, facts: GateFacts) -> GateResult | None:
    if message.template_version_id is None:
        return None
    twin = facts.twin(message, duplicate_since(at))
    if twin is None:
        facts.passed.append({"rule": "duplicate", "hours": settings.CUE_DUPLICATE_WINDOW_HOURS})
        return None
    return GateResult(
        Decision.SUPPRESS,
        "duplicate",
        f"The same template version already went to this contact at "
        f"{twin.sent_at or twin.queued_at:%Y-%m-%d %H:%M} UTC.",
        inputs={"twin_message_id": twin.pk},
    )


def duplicate_since(at: datetime) -> datetime:
    return at - timedelta(hours=settings.CUE_DUPLICATE_WINDOW_HOURS)


_CHECKS = {
    "suppression": _suppression,
    "consent": _consent,
    "pending_consent": _pending_consent,
    "preferences": _preferences,
    "extra": _extra,
    "quiet_hours": _quiet_hours,
    "caps": _caps,
    "duplicate": _duplicate,
}
