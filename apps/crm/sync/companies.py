"""CRM companies (HubSpot companies, Salesforce Accounts) → Cue companies, linked by the
CRM's id (RecordLink), never matched by name: two "Acme" accounts stay two companies.
A page is written at once through contacts' batch writer for companies."""

from apps.contacts.batch_companies import CompanyWrite, companies_write_many
from apps.contacts.errors import ContactsError
from apps.contacts.regions import country_normalize, region_normalize
from apps.crm.adapters import CrmRecord
from apps.crm.models import Direction, ObjectType, RecordLink
from apps.crm.sync.context import SyncContext
from apps.crm.sync.errors import record_error_keep, record_errors_resolve, record_payload
from apps.crm.sync.links import links_create, links_touch
from apps.crm.sync.tally import Tally


def companies_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    """A page of companies through contacts' batch writer; new links in one insert."""
    tally = Tally()
    plan = context.plan(ObjectType.COMPANY)
    links = {
        link.record_id: link
        for link in RecordLink.objects.filter(
            system=context.system,
            object_type=ObjectType.COMPANY,
            record_id__one_of=[r.id for r in records],
        ).select_related("company")
    }
    live, problems, writes = [], {}, []
    for record in records:
        link = links.get(record.id)
        if record.archived:
            _archive(link, record, tally)
            continue
        mapped = plan.apply(record.properties)
        problems[record.id] = list(mapped.problems)
        fields = _place(dict(mapped.fields), problems[record.id])
        if not fields.get("name"):
            fields["name"] = link.company.name if link else f"{context.system} company {record.id}"
        live.append(record)
        writes.append(CompanyWrite(link.company if link else None, fields, mapped.attributes))
    written = companies_write_many(writes, reason=f"Synced from {context.system}")
    new_links, taken = [], []
    for record, result in zip(live, written, strict=True):
        if result.refused:
            _refuse(context, record, result.refused, tally)
            continue
        if result.created:
            new_links.append((record, result.company.pk))
        else:
            taken.append(record)
        kind = "created" if result.created else "updated" if result.changed else "unchanged"
        tally.add(kind, None if problems[record.id] else record.id)
        if problems[record.id]:
            _refuse(context, record, "; ".join(problems[record.id]), tally, counted=True)
    links_create(context.system, ObjectType.COMPANY, new_links)
    links_touch(links, taken)
    record_errors_resolve(
        system=context.system, direction=Direction.IN, object_type=ObjectType.COMPANY,
        record_ids=tally.taken,
    )  # fmt: skip
    return tally


def _place(fields: dict, problems: list[str]) -> dict:
    try:
        if fields.get("country"):
            fields["country"] = country_normalize(fields["country"])
        if fields.get("region"):
            fields["region"] = region_normalize(fields["region"], fields.get("country") or "US")
    except ContactsError as error:
        problems.append(f"region/country: {error}")
        fields.pop("region", None)
        fields.pop("country", None)
    if fields.get("country") is None:
        fields.pop("country", None)  # keeps Cue's default rather than clearing a required field
    return fields


def _archive(link: RecordLink | None, record: CrmRecord, tally: Tally) -> None:
    """An archived or deleted company stays in Cue (its people and deals point at it); the
    link remembers it is gone from the CRM."""
    if link is not None and not link.archived:
        RecordLink.objects.filter(pk=link.pk).update(archived=True, modified_at=record.modified_at)
    tally.add("archived", record.id)


def _refuse(context, record: CrmRecord, error: str, tally: Tally, counted=False) -> None:
    if not counted:
        tally.add("failed")
    record_error_keep(
        system=context.system, direction=Direction.IN, object_type=ObjectType.COMPANY,
        record_id=record.id, error=error, record=record_payload(record),
    )  # fmt: skip
