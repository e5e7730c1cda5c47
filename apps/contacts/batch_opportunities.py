"""Writing a batch of opportunities from another system (a CRM sync page) in a few statements.

`opportunity_create` / `opportunity_update` are right for one change at a time; a CRM's
full sync is tens of thousands of deals, each with its stage moves. This takes a page at
once through the same rules: fields and typed attributes checked as the services check
them, stages that belong to the deal's pipeline, every move kept as an
OpportunityStageChange at the source's own time with its `stage_changed` event (and
`opportunity_created` for a new deal with a contact), closed_at from the first closing
move, and history rows for every row written. Unchanged deals are not written at all.

A known deal that gains a move it has not recorded goes through `opportunity_update`, one
move at a time: a move older than the deal's stage must be placed inside its history,
under the row's lock, which that service already does (and incremental syncs are small).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from apps.accounts.services import system_user
from apps.contacts.attributes import attribute_definitions, attributes_merge, attributes_validate
from apps.contacts.batch_rows import history_rows_copy, instances_insert, rows_insert
from apps.contacts.errors import ContactsError
from apps.contacts.events import ContactId, EventInput, record_events
from apps.contacts.models import (
    AttributeObject,
    EventType,
    Opportunity,
    OpportunityStageChange,
    Pipeline,
    PipelineStage,
    StageMeaning,
)
from apps.contacts.services import opportunity_update

Move = tuple[int, str, datetime]  # (pipeline id, stage key, when it happened in the source)
_FOREIGN_KEYS = ("contact_id", "company_id", "pipeline_id")
_STAGE_CHANGE_COLUMNS = ("opportunity_id", "from_stage", "to_stage", "changed_at", "received_at")


@dataclass
class OpportunityWrite:
    """One deal as the other system holds it. `opportunity`: the Cue opportunity the
    caller's link names (None: a new one). `fields` are Opportunity fields in Cue's form:
    None leaves a field as it is, except that contact_id or company_id None clears it;
    `attributes` a partial change. `moves` are its stage
    moves, oldest first; the last is its current stage."""

    opportunity: Opportunity | None
    fields: dict[str, Any]
    moves: list[Move]
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class OpportunityWritten:
    opportunity: Opportunity | None = None
    created: bool = False
    changed: bool = False
    refused: str = ""


@transaction.atomic
def opportunities_write_many(
    items: list[OpportunityWrite], *, event_source: str, reason: str
) -> list[OpportunityWritten]:
    """One result per item, in order; a refused item changes nothing and names why."""
    plan = _Plan(items, event_source)
    results = []
    for item in items:
        result = OpportunityWritten()
        try:
            plan.add(item, result)
        except ContactsError as error:
            result.refused = str(error)
        results.append(result)
    plan.save(reason)
    return results


class _Plan:
    def __init__(self, items: list[OpportunityWrite], event_source: str):
        self.event_source = event_source
        self.meanings = {
            (pipeline_id, key): meaning
            for pipeline_id, key, meaning in PipelineStage.objects.values_list(
                "pipeline_id", "key", "meaning"
            )
        }
        self.definitions = attribute_definitions(object_type=AttributeObject.OPPORTUNITY)
        self.pipelines = Pipeline.objects.in_bulk()
        known = [item.opportunity.pk for item in items if item.opportunity is not None]
        # Fresh copies under the rows' locks: what the deal is now decides what changes.
        self.locked = Opportunity.objects.select_for_update().in_bulk(known)
        self.recorded: dict[int, set[tuple[str, datetime]]] = {}
        changes = OpportunityStageChange.objects.filter(opportunity_id__in=known)
        for pk, to_stage, at in changes.values_list("opportunity_id", "to_stage", "changed_at"):
            self.recorded.setdefault(pk, set()).add((to_stage, at))
        self.new: list[tuple[Opportunity, list[Move]]] = []
        self.changed: list[Opportunity] = []
        self.changed_fields: set[str] = set()

    def add(self, item: OpportunityWrite, result: OpportunityWritten) -> None:
        if not item.moves:
            raise ContactsError("The opportunity has no stage.", field="stage")
        for pipeline_id, key, _at in item.moves:
            if (pipeline_id, key) not in self.meanings:
                raise ContactsError(
                    f"{key!r} is not a stage of the opportunity's pipeline.", field="stage"
                )
        fields = _fields_clean(item.fields)
        changes = attributes_validate(
            object_type=AttributeObject.OPPORTUNITY,
            values=item.attributes,
            partial=True,
            definitions=self.definitions,
        )
        if item.opportunity is None:
            result.opportunity, result.created = self._create(item, fields, changes), True
            return
        opportunity = self.locked[item.opportunity.pk]
        result.opportunity = opportunity
        recorded = self.recorded.get(opportunity.pk, set())
        unrecorded = [move for move in item.moves if (move[1], move[2]) not in recorded]
        if unrecorded:
            moves = [(self.pipelines[p], stage, at) for p, stage, at in unrecorded]
            with transaction.atomic():  # refused halfway: none of its moves stay
                result.changed = _moves_one_by_one(opportunity, moves, fields, changes)
            return
        result.changed = self._update(opportunity, fields, changes)

    def _create(self, item: OpportunityWrite, fields: dict, changes: dict) -> Opportunity:
        first_pipeline, first_stage, first_at = item.moves[0]
        opportunity = Opportunity(opened_at=first_at, **fields)
        opportunity.attributes = attributes_merge({}, changes)
        opportunity.pipeline_id, opportunity.stage = first_pipeline, first_stage
        opportunity.stage_changed_at = first_at
        moves = [item.moves[0]]
        for move in item.moves[1:]:
            if move[:2] != moves[-1][:2]:
                moves.append(move)
        for pipeline_id, stage, at in moves:
            closed = self.meanings[(pipeline_id, stage)] in (StageMeaning.WON, StageMeaning.LOST)
            opportunity.closed_at = (opportunity.closed_at or at) if closed else None
            opportunity.pipeline_id, opportunity.stage, opportunity.stage_changed_at = (
                pipeline_id,
                stage,
                at,
            )
        self.new.append((opportunity, moves))
        return opportunity

    def _update(self, opportunity: Opportunity, fields: dict, changes: dict) -> bool:
        changed = [name for name, value in fields.items() if getattr(opportunity, name) != value]
        for name in changed:
            setattr(opportunity, name, fields[name])
        attributes = attributes_merge(opportunity.attributes, changes)
        if attributes != (opportunity.attributes or {}):
            opportunity.attributes = attributes
            changed.append("attributes")
        if changed:
            self.changed.append(opportunity)
            self.changed_fields.update(changed)
        return bool(changed)

    def save(self, reason: str) -> None:
        if self.new:
            opportunities = [opportunity for opportunity, _ in self.new]
            instances_insert(Opportunity, opportunities)
            history_rows_copy(
                Opportunity, [o.pk for o in opportunities], history_type="+", reason=reason,
                user_id=system_user().pk, at=timezone.now(),
            )  # fmt: skip
            self._moves_record()
        if self.changed:
            bulk_update_with_history(
                self.changed, Opportunity, sorted(self.changed_fields),
                default_change_reason=reason,
            )  # fmt: skip

    def _moves_record(self) -> None:
        """Each new deal's moves as stage changes (from the stage before), then their events
        in one call: a deal with a contact is an `opportunity_created` and a `stage_changed`
        per move, at the source's times, as the services record them one by one. The
        changes are stored as plain rows: a model instance per move was a visible share of
        a full sync."""
        received = timezone.now()
        moved, rows = [], []
        for opportunity, moves in self.new:
            was = ""
            for _pipeline_id, stage, at in moves:
                moved.append(opportunity)
                rows.append((opportunity.pk, was, stage, at, received))
                was = stage
        ids = rows_insert(OpportunityStageChange, _STAGE_CHANGE_COLUMNS, rows)
        events = []
        for opportunity, moves in self.new:
            if opportunity.contact_id is not None:
                events.append(_created_event(opportunity, moves[0], self.event_source))
        for opportunity, row, pk in zip(moved, rows, ids, strict=True):
            if opportunity.contact_id is not None:
                events.append(_stage_changed_event(opportunity, pk, row, self.event_source))
        if events:
            record_events(events)


def _fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields given (None: left as they are), each checked as the model checks it."""
    clean = {}
    for name, value in fields.items():
        if value is None and name not in _FOREIGN_KEYS:
            continue
        if name not in _FOREIGN_KEYS:
            model_field = Opportunity._meta.get_field(name)
            try:
                value = model_field.clean(value, None)
            except ValidationError as error:
                raise ContactsError(f"{name}: {' '.join(error.messages)}", field=name) from error
        clean[name] = value
    return clean


def _moves_one_by_one(
    opportunity: Opportunity, moves: list[tuple[Pipeline, str, datetime]], fields, changes
) -> bool:
    stage_before = (opportunity.stage, opportunity.stage_changed_at)
    for pipeline, stage, at in moves:
        opportunity_update(
            opportunity=opportunity, pipeline=pipeline, stage=stage, stage_changed_at=at
        )
    values = {**fields, **({"attributes": changes} if changes else {})}
    before = {name: getattr(opportunity, name) for name in values}
    opportunity_update(opportunity=opportunity, **values)
    after = {name: getattr(opportunity, name) for name in values}
    return before != after or stage_before != (opportunity.stage, opportunity.stage_changed_at)


def _created_event(opportunity: Opportunity, first: Move, source: str) -> EventInput:
    return EventInput(
        ContactId(opportunity.contact_id),
        EventType.OPPORTUNITY_CREATED,
        first[2],
        f"opportunity:{opportunity.pk}:created",
        {"opportunity_id": opportunity.pk, "stage": first[1]},
        source,
    )


def _stage_changed_event(
    opportunity: Opportunity, change_id: int, change: tuple, source: str
) -> EventInput:
    """The `stage_changed` event of a stage change row (_STAGE_CHANGE_COLUMNS) stored as
    `change_id`."""
    _opportunity_id, from_stage, to_stage, changed_at, _received = change
    return EventInput(
        ContactId(opportunity.contact_id),
        EventType.STAGE_CHANGED,
        changed_at,
        f"opportunity:{opportunity.pk}:stage:{change_id}",
        {
            "opportunity_id": opportunity.pk,
            "pipeline_id": opportunity.pipeline_id,
            "from": from_stage,
            "to": to_stage,
            "amount": str(Decimal(opportunity.amount)),
        },
        source,
    )
