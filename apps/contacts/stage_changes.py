"""Stage changes as Cue records them: the current stage of a contact or an opportunity,
its history, and the events journeys read.

The order rule: a record keeps the source time of its current stage
(`Contact.lifecycle_stage_changed_at`, `Opportunity.stage_changed_at`). A change that
happened before that time is history only: it is recorded at its own time (events,
opportunity stage history), marked `superseded`, and does not replace the current stage.
A change with no source time happened now. At the same moment, the change heard later
wins. An unknown stored time (rows from before the rule) never wins over a change. A
change to the stage the record is already at, with a newer source time, moves the kept
time forward (the source said the stage still held then); one without a time does not.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.contacts.errors import ContactsError
from apps.contacts.events import record_event
from apps.contacts.models import (
    Contact,
    Event,
    EventType,
    Opportunity,
    OpportunityStageChange,
    validate_lifecycle_stage,
)


def stage_change_superseded(current_at: datetime | None, at: datetime) -> bool:
    """Whether a stage change that happened `at` is older than the current stage, which it
    then must not replace. Unknown (no time kept) is never newer; at the same moment the
    change heard later wins."""
    return current_at is not None and at < current_at


def stage_time_newest(current: datetime | None, heard: datetime | None) -> datetime | None:
    """The stage time to keep when the source repeats the current stage at `heard`: the
    source said then that the stage still held, so a change older than that is superseded
    too (a deal that went A → B → A keeps A when the last move is heard first)."""
    if heard is None or (current is not None and heard <= current):
        return current
    return heard


def lifecycle_change_superseded(
    contact: Contact, fields: dict, at: datetime
) -> tuple[str, str | None]:
    """The contact's stage as stored (set on `contact` too), and the stage `fields` name if
    that change happened before the stored stage was reached (None: the change, if any,
    applies). Read under the row's lock, so that two changes heard at once are ordered by
    their source times, whatever copy of the contact the caller holds."""
    locked = Contact.objects.select_for_update().filter(pk=contact.pk)
    stage, current_at = locked.values_list("lifecycle_stage", "lifecycle_stage_changed_at").get()
    contact.lifecycle_stage, contact.lifecycle_stage_changed_at = stage, current_at
    wanted = fields.get("lifecycle_stage")
    if not wanted or wanted == stage or not stage_change_superseded(current_at, at):
        return stage, None
    try:
        validate_lifecycle_stage(wanted)  # kept in history only, so checked here
    except ValidationError as error:
        raise ContactsError(" ".join(error.messages), field="lifecycle_stage") from error
    return stage, wanted


def lifecycle_superseded_record(contact: Contact, to: str, at: datetime) -> None:
    """Records a lifecycle change older than the contact's stage, from the stage the
    contact was at then."""
    was = _lifecycle_stage_at(contact, at)
    if was != to:  # already at that stage then (e.g. the same change heard twice): no move
        lifecycle_change_record(contact, was, to, at, superseded=True)


def _lifecycle_stage_at(contact: Contact, at: datetime) -> str:
    """The contact's lifecycle stage at a past moment, as its recorded changes tell."""
    changes = Event.objects.filter(contact=contact, type=EventType.LIFECYCLE_STAGE_CHANGED)
    before = changes.filter(occurred_at__lte=at).order_by("-occurred_at", "-id").first()
    if before is not None:
        return str(before.properties.get("to", ""))
    after = changes.filter(occurred_at__gt=at).order_by("occurred_at", "id").first()
    return str(after.properties.get("from", "")) if after else contact.lifecycle_stage


def lifecycle_change_record(
    contact: Contact, was: str, to: str, at: datetime, *, superseded: bool = False
) -> None:
    """Journeys end on a stage reached; they learn of it from this event, which carries
    the time the change happened in the source (attribution and journeys read that). A
    superseded change (older than the stage the contact is at) is history only: it is
    marked so, and starts no journey."""
    properties = {"from": was, "to": to, **({"superseded": True} if superseded else {})}
    record_event(
        contact=contact,
        type=EventType.LIFECYCLE_STAGE_CHANGED,
        occurred_at=at,
        idempotency_key=f"contact:{contact.pk}:lifecycle:{to}:{at.isoformat()}",
        properties=properties,
        source="crm",
    )


def opportunity_stage_locked(opportunity: Opportunity) -> Opportunity:
    """The stored stage, pipeline and stage time, read under the row's lock: two changes
    heard at once are then ordered by their source times."""
    locked = Opportunity.objects.select_for_update().filter(pk=opportunity.pk)
    return locked.only("stage", "pipeline_id", "stage_changed_at").get()


def opportunity_stage_change_record(
    opportunity: Opportunity, previous_stage: str, created: bool, at: datetime | None
) -> None:
    received = timezone.now()
    now = at or received  # the time it happened in the source: attribution reads it
    change = OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage=previous_stage,
        to_stage=opportunity.stage,
        changed_at=now,
        received_at=received,
    )
    if opportunity.contact_id is None:
        return
    if created:
        record_event(
            contact=opportunity.contact,
            type=EventType.OPPORTUNITY_CREATED,
            occurred_at=now,
            idempotency_key=f"opportunity:{opportunity.pk}:created",
            properties={"opportunity_id": opportunity.pk, "stage": opportunity.stage},
            source="crm",
        )
    _stage_changed_event(opportunity, change)


def opportunity_stage_change_insert(opportunity: Opportunity, to_stage: str, at: datetime) -> None:
    """A move older than the current stage, put into the history in its place: it moves
    from the stage the deal was at then, and the next move now starts from it, so that
    funnels and attribution read the moves in the order they happened. A move to the stage
    the deal was at then (e.g. the same change heard twice) is no move: nothing is kept."""
    changes = opportunity.stage_changes.order_by("changed_at", "id")
    before = changes.filter(changed_at__lte=at).last()
    was = before.to_stage if before else ""
    if was == to_stage:
        return
    after = changes.filter(changed_at__gt=at).first()
    change = OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage=was,
        to_stage=to_stage,
        changed_at=at,
        received_at=timezone.now(),
    )
    if after is not None:
        OpportunityStageChange.objects.filter(pk=after.pk).update(from_stage=to_stage)
    if opportunity.contact_id is not None:
        _stage_changed_event(opportunity, change, superseded=True)


def _stage_changed_event(
    opportunity: Opportunity, change: OpportunityStageChange, *, superseded: bool = False
) -> None:
    """Journeys end on their goals from this event; a superseded move starts no journey."""
    record_event(
        contact=opportunity.contact,
        type=EventType.STAGE_CHANGED,
        occurred_at=change.changed_at,
        idempotency_key=f"opportunity:{opportunity.pk}:stage:{change.pk}",
        properties={
            "opportunity_id": opportunity.pk,
            "pipeline_id": opportunity.pipeline_id,
            "from": change.from_stage,
            "to": change.to_stage,
            "amount": str(opportunity.amount),
            **({"superseded": True} if superseded else {}),
        },
        source="crm",
    )
