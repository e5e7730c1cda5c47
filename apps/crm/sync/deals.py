"""CRM deals (HubSpot deals, Salesforce Opportunities) → Cue opportunities, linked by the
CRM's id, through contacts' opportunity services.

Every stage move carries the CRM's own time (HubSpot's stage history, Salesforce's
OpportunityHistory), so attribution windows are right however late a batched sync hears
of it, and each move is a `stage_changed` event that wakes journeys and routing. A deal in
a stage no mapping names is kept with its error and taken once the mapping is added.
"""

from apps.contacts.errors import ContactsError
from apps.contacts.models import ContactExternalId, Opportunity, Pipeline
from apps.contacts.services import opportunity_create, opportunity_update
from apps.crm.adapters import CrmRecord, StageEntry
from apps.crm.models import Direction, ObjectType, RecordLink
from apps.crm.sync.context import SyncContext
from apps.crm.sync.errors import record_error_keep, record_errors_resolve, record_payload
from apps.crm.sync.tally import Tally

# Where each CRM keeps a deal's pipeline and stage. Salesforce has one stage list, which its
# adapter names as the pipeline "opportunity".
STAGE_FIELDS = {"hubspot": ("pipeline", "dealstage"), "salesforce": (None, "StageName")}
ONLY_PIPELINE = {"salesforce": "opportunity"}


class _Refused(Exception):
    pass


def deals_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    tally = Tally()
    links = {
        link.record_id: link
        for link in RecordLink.objects.filter(
            system=context.system,
            object_type=ObjectType.DEAL,
            record_id__in=[r.id for r in records],
        ).select_related("opportunity")
    }
    people = _people(context, records)
    companies = context.company_ids({c for r in records for c in r.associations.get("company", [])})
    pipelines = Pipeline.objects.in_bulk()
    for record in records:
        link = links.get(record.id)
        if record.archived:
            if link is not None and not link.archived:
                RecordLink.objects.filter(pk=link.pk).update(archived=True)
            tally.add("archived", record.id)
            continue
        try:
            kind = _deal_save(context, record, link, people, companies, pipelines)
        except (_Refused, ContactsError) as error:
            tally.add("failed")
            record_error_keep(
                system=context.system, direction=Direction.IN, object_type=ObjectType.DEAL,
                record_id=record.id, error=str(error), record=record_payload(record),
            )  # fmt: skip
            continue
        tally.add(kind, record.id)
    record_errors_resolve(
        system=context.system, direction=Direction.IN, object_type=ObjectType.DEAL,
        record_ids=tally.taken,
    )  # fmt: skip
    return tally


def _people(context: SyncContext, records: list[CrmRecord]) -> dict[str, int]:
    wanted = {c for r in records for c in r.associations.get("contact", [])}
    rows = ContactExternalId.objects.filter(source=context.system, value__in=wanted)
    return dict(rows.values_list("value", "contact_id"))


def _deal_save(context, record, link, people, companies, pipelines) -> str:
    mapped = context.plan(ObjectType.DEAL).apply(record.properties)
    if mapped.problems:
        raise _Refused("; ".join(mapped.problems))
    moves = _moves(context, record)
    fields = {key: value for key, value in mapped.fields.items() if value is not None}
    if mapped.attributes:
        fields["attributes"] = mapped.attributes
    contact_ids = [people[c] for c in record.associations.get("contact", []) if c in people]
    company_ids = [companies[c] for c in record.associations.get("company", []) if c in companies]
    fields["contact_id"] = contact_ids[0] if contact_ids else None
    fields["company_id"] = company_ids[0] if company_ids else None
    if link is None:
        _create(context, record, fields, moves, pipelines)
        return "created"
    opportunity = Opportunity.objects.get(pk=link.opportunity_id)
    before = _snapshot(opportunity)
    history = set(opportunity.stage_changes.values_list("to_stage", "changed_at"))
    for pipeline_id, stage, at in moves:
        if (stage, at) not in history:
            opportunity_update(
                opportunity=opportunity, pipeline=pipelines[pipeline_id], stage=stage,
                stage_changed_at=at,
            )  # fmt: skip
    opportunity_update(opportunity=opportunity, **fields)
    RecordLink.objects.filter(pk=link.pk).update(modified_at=record.modified_at, archived=False)
    return "unchanged" if _snapshot(opportunity) == before else "updated"


def _create(context, record: CrmRecord, fields: dict, moves, pipelines) -> None:
    first_pipeline, first_stage, first_at = moves[0]
    fields.setdefault("name", f"{context.system} deal {record.id}")
    opportunity = opportunity_create(
        stage=first_stage, pipeline=pipelines[first_pipeline], stage_changed_at=first_at,
        opened_at=first_at, **fields,
    )  # fmt: skip
    for pipeline_id, stage, at in moves[1:]:
        opportunity_update(
            opportunity=opportunity, pipeline=pipelines[pipeline_id], stage=stage,
            stage_changed_at=at,
        )  # fmt: skip
    RecordLink.objects.create(
        system=context.system, object_type=ObjectType.DEAL, record_id=record.id,
        opportunity=opportunity, modified_at=record.modified_at,
    )  # fmt: skip


def _moves(context: SyncContext, record: CrmRecord) -> list[tuple[int, str, object]]:
    """The deal's stage moves in Cue's stages, oldest first, ending at its current stage."""
    pipeline_field, stage_field = STAGE_FIELDS[context.system]
    if pipeline_field:
        pipeline = str(record.properties.get(pipeline_field) or "")
    else:
        pipeline = ONLY_PIPELINE[context.system]
    current = str(record.properties.get(stage_field) or "")
    if not current:
        raise _Refused(f"The deal has no {stage_field}.")
    entries = sorted(record.stage_history, key=lambda e: e.entered_at)
    if not entries or (entries[-1].stage, entries[-1].pipeline or pipeline) != (current, pipeline):
        entries.append(StageEntry(pipeline, current, record.modified_at))
    moves = []
    for entry in entries:
        key = (entry.pipeline if pipeline_field else pipeline, entry.stage)
        target = context.deal_stages.get(key)
        if target is None:
            if entry is entries[-1]:
                where = f" of pipeline {key[0]!r}" if key[0] else ""
                raise _Refused(f"Stage {key[1]!r}{where} is not mapped to a Cue stage.")
            continue  # an old stage no longer mapped: its move is not history Cue can place
        moves.append((*target, entry.entered_at))
    return moves


def _snapshot(opportunity: Opportunity) -> tuple:
    opportunity.refresh_from_db()
    return tuple(getattr(opportunity, f.attname) for f in Opportunity._meta.concrete_fields)
