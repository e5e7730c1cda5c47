"""CRM deals (HubSpot deals, Salesforce Opportunities) → Cue opportunities, linked by the
CRM's id, a page at a time through contacts' batch writer for opportunities.

Every stage move carries the CRM's own time (HubSpot's stage history, Salesforce's
OpportunityHistory), so attribution windows are right however late a batched sync hears
of it, and each move is a `stage_changed` event that wakes journeys and routing. A deal in
a stage no mapping names is kept with its error and taken once the mapping is added.
"""

from apps.contacts.batch_opportunities import OpportunityWrite, opportunities_write_many
from apps.contacts.models import ContactExternalId
from apps.crm.adapters import CrmRecord, StageEntry
from apps.crm.models import Direction, ObjectType, RecordLink
from apps.crm.sync.context import SyncContext
from apps.crm.sync.errors import record_error_keep, record_errors_resolve, record_payload
from apps.crm.sync.links import links_create, links_touch
from apps.crm.sync.tally import Tally

# Where each CRM keeps a deal's pipeline and stage. Salesforce has one stage list, which its
# adapter names as the pipeline "opportunity".
STAGE_FIELDS = {"hubspot": ("pipeline", "dealstage"), "salesforce": (None, "StageName")}
ONLY_PIPELINE = {"salesforce": "opportunity"}


class _Refused(Exception):
    pass


def deals_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    """A page of deals in a few statements: links, people and companies read once, the
    opportunities written through contacts' batch writer, new links in one insert."""
    tally = Tally()
    links = {
        link.record_id: link
        for link in RecordLink.objects.filter(
            system=context.system,
            object_type=ObjectType.DEAL,
            record_id__one_of=[r.id for r in records],
        ).select_related("opportunity")
    }
    people = _people(context, records)
    companies = context.company_ids({c for r in records for c in r.associations.get("company", [])})
    live = [r for r in records if not r.archived]
    _archive(context, links, [r for r in records if r.archived], tally)
    writes: list[tuple[CrmRecord, OpportunityWrite]] = []
    for record in live:
        try:
            write = _write_of(context, record, links.get(record.id), people, companies)
        except _Refused as error:
            _refuse(context, record, str(error), tally)
            continue
        writes.append((record, write))
    written = opportunities_write_many(
        [write for _, write in writes], event_source="crm", reason=f"Synced from {context.system}"
    )
    new_links, taken = [], []
    for (record, _write), result in zip(writes, written, strict=True):
        if result.refused:
            _refuse(context, record, result.refused, tally)
            continue
        if result.created:
            new_links.append((record, result.opportunity.pk))
        else:
            taken.append(record)
        kind = "created" if result.created else "updated" if result.changed else "unchanged"
        tally.add(kind, record.id)
    links_create(context.system, ObjectType.DEAL, new_links)
    links_touch(links, taken)
    record_errors_resolve(
        system=context.system, direction=Direction.IN, object_type=ObjectType.DEAL,
        record_ids=tally.taken,
    )  # fmt: skip
    return tally


def _people(context: SyncContext, records: list[CrmRecord]) -> dict[str, int]:
    wanted = {c for r in records for c in r.associations.get("contact", [])}
    rows = ContactExternalId.objects.filter(source=context.system, value__one_of=wanted)
    return dict(rows.values_list("value", "contact_id"))


def _write_of(context, record, link, people, companies) -> OpportunityWrite:
    mapped = context.plan(ObjectType.DEAL).apply(record.properties)
    if mapped.problems:
        raise _Refused("; ".join(mapped.problems))
    moves = _moves(context, record)
    fields = {key: value for key, value in mapped.fields.items() if value is not None}
    contact_ids = [people[c] for c in record.associations.get("contact", []) if c in people]
    company_ids = [companies[c] for c in record.associations.get("company", []) if c in companies]
    fields["contact_id"] = contact_ids[0] if contact_ids else None
    fields["company_id"] = company_ids[0] if company_ids else None
    if link is None:
        fields.setdefault("name", f"{context.system} deal {record.id}")
    return OpportunityWrite(
        opportunity=link.opportunity if link else None,
        fields=fields,
        moves=moves,
        attributes=mapped.attributes,
    )


def _archive(context, links: dict, records: list[CrmRecord], tally: Tally) -> None:
    gone = [links[r.id].pk for r in records if r.id in links and not links[r.id].archived]
    if gone:
        RecordLink.objects.filter(pk__in=gone).update(archived=True)
    for record in records:
        tally.add("archived", record.id)


def _refuse(context: SyncContext, record: CrmRecord, error: str, tally: Tally) -> None:
    tally.add("failed")
    record_error_keep(
        system=context.system, direction=Direction.IN, object_type=ObjectType.DEAL,
        record_id=record.id, error=error, record=record_payload(record),
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
