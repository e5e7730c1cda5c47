"""CRM companies (HubSpot companies, Salesforce Accounts) → Cue companies, linked by the
CRM's id (RecordLink), never matched by name: two "Acme" accounts stay two companies."""

from apps.contacts.errors import ContactsError
from apps.contacts.models import Company
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.services import company_create, company_update
from apps.crm.adapters import CrmRecord
from apps.crm.models import Direction, ObjectType, RecordLink
from apps.crm.sync.context import SyncContext
from apps.crm.sync.errors import record_error_keep, record_errors_resolve, record_payload
from apps.crm.sync.tally import Tally


def companies_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    tally = Tally()
    plan = context.plan(ObjectType.COMPANY)
    links = {
        link.record_id: link
        for link in RecordLink.objects.filter(
            system=context.system,
            object_type=ObjectType.COMPANY,
            record_id__in=[r.id for r in records],
        ).select_related("company")
    }
    for record in records:
        link = links.get(record.id)
        if record.archived:
            _archive(link, record, tally)
            continue
        mapped = plan.apply(record.properties)
        fields = {**mapped.fields, "attributes": mapped.attributes}
        problems = list(mapped.problems)
        fields = _place(fields, problems)
        try:
            kind = _save(context, link, record, fields)
        except ContactsError as error:
            _refuse(context, record, str(error), tally)
            continue
        tally.add(kind, None if problems else record.id)
        if problems:
            _refuse(context, record, "; ".join(problems), tally, counted=True)
    record_errors_resolve(
        system=context.system, direction=Direction.IN, object_type=ObjectType.COMPANY,
        record_ids=tally.taken,
    )  # fmt: skip
    return tally


def _save(context: SyncContext, link: RecordLink | None, record: CrmRecord, fields: dict) -> str:
    fields.setdefault("name", None)
    if not fields["name"]:
        fields["name"] = link.company.name if link else f"{context.system} company {record.id}"
    if link is None:
        company = company_create(**fields)
        RecordLink.objects.create(
            system=context.system, object_type=ObjectType.COMPANY, record_id=record.id,
            company=company, modified_at=record.modified_at,
        )  # fmt: skip
        return "created"
    before = _snapshot(link.company)
    company_update(company=link.company, **fields)
    RecordLink.objects.filter(pk=link.pk).update(modified_at=record.modified_at, archived=False)
    return "unchanged" if _snapshot(link.company) == before else "updated"


def _snapshot(company: Company) -> tuple:
    return tuple(getattr(company, f.attname) for f in Company._meta.concrete_fields)


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
