"""Would the contact enter? The trigger, the entry segment, the re-entry rule, the holdout."""

from dataclasses import dataclass
from datetime import datetime

from apps.contacts.models import Contact
from apps.contacts.segments import SegmentRulesError, segment_contacts, segment_rules_validate
from apps.journeys.models import (
    Enrollment,
    EnrollmentState,
    Journey,
    ReentryPolicy,
    TriggerKind,
)
from apps.journeys.services import holdout_for, reentry_allowed
from apps.journeys.simulator.described import (
    ContactDescription,
    DescribedFacts,
    described_rules_hold,
)


@dataclass(frozen=True)
class EntryCheck:
    name: str
    passed: bool
    detail: str


@dataclass
class Subject:
    """The contact being simulated: saved (read from the CRM) or described (unsaved)."""

    contact: Contact
    description: ContactDescription | None
    event_type: str
    event_properties: dict
    now: datetime

    @property
    def saved(self) -> bool:
        return self.contact.pk is not None

    def rules_hold(self, rules: dict) -> bool:
        """Raises SegmentRulesError for rules that do not compile."""
        if self.saved:
            return segment_contacts(rules=rules).filter(pk=self.contact.pk).exists()
        facts = DescribedFacts(
            self.contact, self.description, self.event_type, self.event_properties, self.now
        )
        errors = segment_rules_validate(rules)
        if errors:
            raise SegmentRulesError(errors)
        return described_rules_hold(rules, facts)


def entry_checks(journey: Journey, subject: Subject) -> tuple[list[EntryCheck], bool]:
    """The checks in the engine's order, and whether the contact is in the holdout."""
    checks = [_trigger(journey, subject), _segment(journey, subject), _reentry(journey, subject)]
    holdout_check, holdout = _holdout(journey, subject)
    return [*checks, holdout_check], holdout


def _trigger(journey: Journey, subject: Subject) -> EntryCheck:
    if journey.trigger_kind == TriggerKind.SEGMENT_ENTRY:
        segment = journey.entry_segment
        detail = f"Enters on joining the segment {segment}." if segment else "No segment set."
        return EntryCheck("Trigger", segment is not None, detail)
    wanted, filters = journey.trigger_event_type, journey.trigger_filters or {}
    if not wanted:
        return EntryCheck("Trigger", False, "The journey has no trigger event.")
    if subject.event_type != wanted:
        return EntryCheck(
            "Trigger", False, f"Starts on {wanted}, not on {subject.event_type or 'no event'}."
        )
    missing = {k: v for k, v in filters.items() if subject.event_properties.get(k) != v}
    if missing:
        return EntryCheck(
            "Trigger", False, f"{wanted} matches, but its properties must include {missing}."
        )
    with_filters = f" with {filters}" if filters else ""
    return EntryCheck("Trigger", True, f"{wanted}{with_filters} starts this journey.")


def _segment(journey: Journey, subject: Subject) -> EntryCheck:
    segment = journey.entry_segment
    if segment is None:
        return EntryCheck("Entry segment", True, "No entry segment: every triggered contact.")
    try:
        inside = subject.rules_hold(segment.rules)
    except SegmentRulesError as error:
        return EntryCheck("Entry segment", False, f"The segment's rules are invalid: {error}")
    verb = "is in" if inside else "is not in"
    return EntryCheck("Entry segment", inside, f"The contact {verb} the segment {segment}.")


def _reentry(journey: Journey, subject: Subject) -> EntryCheck:
    if not subject.saved:
        return EntryCheck("Re-entry", True, "A new contact has never been in this journey.")
    previous = (
        Enrollment.objects.filter(journey=journey, contact_id=subject.contact.pk)
        .order_by("-entered_at")
        .first()
    )
    allowed = reentry_allowed(journey, subject.contact.pk, subject.now)
    if previous is None:
        return EntryCheck("Re-entry", True, "Never been in this journey.")
    if previous.state in EnrollmentState.running():
        return EntryCheck("Re-entry", False, "Already running in this journey.")
    rule = (
        "re-entry is never allowed"
        if journey.reentry == ReentryPolicy.NEVER
        else f"re-entry is allowed {journey.reentry_days or 0} days after the last run ended"
    )
    when = previous.finished_at or previous.entered_at
    return EntryCheck("Re-entry", allowed, f"Last ran until {when:%Y-%m-%d %H:%M}; {rule}.")


def _holdout(journey: Journey, subject: Subject) -> tuple[EntryCheck, bool]:
    share = journey.holdout_percent
    if not share:
        return EntryCheck("Holdout", True, "No holdout: every entrant is messaged."), False
    if not subject.saved:
        detail = (
            f"{share}% are held out, drawn from the contact's id once it exists; "
            "shown here as messaged."
        )
        return EntryCheck("Holdout", True, detail), False
    held = holdout_for(subject.contact.pk, journey)
    if held:
        detail = f"In the holdout ({share}% are held out): enters, but is never messaged."
    else:
        detail = f"Not in the holdout ({share}% are held out): is messaged."
    return EntryCheck("Holdout", True, detail), held
