"""CRM people (HubSpot contacts; Salesforce Leads and Contacts) → Cue contacts, a page at
a time through contacts' batch writer and its identity rules.

- The CRM's id is the contact's external id for that system. A Salesforce Lead converted
  into a Contact (ConvertedContactId) carries on as the same Cue contact under the new id.
- An email or phone that names another Cue contact is a conflict, reported, not merged.
- Consent is never inferred: a mapped opt-out becomes a ledger row with source
  `crm:<system>` and the record as evidence, at once; a mapped opt-in counts only with
  evidence fields mapped, otherwise it is kept as "claimed, no evidence".
"""

from datetime import datetime

from apps.contacts.batch_write import PersonWrite, PersonWritten, contacts_write_many
from apps.contacts.errors import ContactsError
from apps.contacts.identity import contact_keys
from apps.contacts.models import ContactExternalId
from apps.crm import mapping
from apps.crm.adapters import CrmRecord
from apps.crm.models import Direction
from apps.crm.sync.consent import ConsentClaim, consent_claims_apply, consent_flags_carry
from apps.crm.sync.context import SyncContext
from apps.crm.sync.errors import record_error_keep, record_errors_resolve, record_payload
from apps.crm.sync.tally import Tally


def people_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    tally = Tally()
    plan = context.plan(object_type)
    live = [r for r in records if not r.archived]
    _archive(context, [r for r in records if r.archived], tally)
    companies = context.company_ids({c for r in live for c in r.associations.get("company", [])})
    writes, claims, problems = [], [], []
    for record in live:
        write, claim, record_problems = _write_of(context, plan, record, companies)
        writes.append(write)
        claims.append(claim)
        problems.append(record_problems)
    if not writes:
        return tally
    written = contacts_write_many(
        [w for w in writes if w is not None],
        source=context.system,
        event_source=f"crm:{context.system}",
        reason=f"Synced from {context.system}",
    )
    results = iter(written)
    conversions = {}
    for record, write, claim, record_problems in zip(live, writes, claims, problems, strict=True):
        result = next(results) if write is not None else PersonWritten(refused=record_problems[0])
        _count(context, record, result, record_problems, tally)
        if claim is not None and result.contact_id:
            claim.contact_id = result.contact_id
        if record.converted_to and result.contact_id:
            conversions[record.id] = record.converted_to
    consent_flags_carry(context.system, conversions)
    consent_claims_apply(context.system, [c for c in claims if c and c.contact_id])
    record_errors_resolve(
        system=context.system, direction=Direction.IN, object_type=object_type,
        record_ids=tally.taken,
    )  # fmt: skip
    return tally


def _write_of(context, plan, record: CrmRecord, companies: dict[str, int]):
    """(PersonWrite or None if the record cannot be read at all, consent claim, problems)."""
    if record.converted_to:  # the Contact it became brings the fields
        keys = contact_keys(external_id=record.converted_to, source=context.system)
        return PersonWrite(keys=keys, previous_id=record.id, create=False), None, []
    mapped = plan.apply(record.properties)
    problems = list(mapped.problems)
    fields = dict(mapped.fields)
    try:
        keys = contact_keys(
            external_id=record.id,
            source=context.system,
            email=fields.get("email"),
            phone=fields.get("phone"),
        )
    except ContactsError as error:
        return None, None, [str(error)]
    owner = mapped.roles.get(mapping.OWNER)
    if mapping.OWNER in mapped.roles:
        fields["owner_id"] = context.owner_user_id(owner)
        if owner and fields["owner_id"] is None:
            problems.append(f"owner {owner} has no Cue user with the same email (taken unowned).")
    company_ids = [companies[c] for c in record.associations.get("company", []) if c in companies]
    if company_ids:
        fields["company_id"] = company_ids[0]
    stage = _lifecycle(context, mapped, problems)
    write = PersonWrite(
        keys=keys,
        fields=fields,
        attributes=mapped.attributes,
        lifecycle_stage=stage,
        stage_changed_at=_stage_time(record, mapped) if stage else None,
    )
    return write, _claim(record, mapped), problems


def _lifecycle(context: SyncContext, mapped: mapping.Mapped, problems: list[str]) -> str | None:
    value = mapped.roles.get(mapping.LIFECYCLE)
    if not value:
        return None
    stage = context.lifecycle_stages.get(value)
    if stage is None:
        problems.append(f"lifecycle stage {value!r} is not mapped to a Cue stage.")
    return stage


def _stage_time(record: CrmRecord, mapped: mapping.Mapped) -> datetime:
    """When the person entered the stage in the CRM: HubSpot keeps a date per lifecycle
    stage; otherwise the record's modification time, the latest it can have been."""
    value = mapped.roles.get(mapping.LIFECYCLE)
    entered = record.properties.get(f"hs_lifecyclestage_{value}_date")
    if entered:
        try:
            return datetime.fromisoformat(str(entered).replace("Z", "+00:00"))
        except ValueError:
            pass  # an odd value: the modification time bounds it
    return record.modified_at


def _claim(record: CrmRecord, mapped: mapping.Mapped) -> ConsentClaim | None:
    opt_out = mapped.roles.get(mapping.OPT_OUT)
    opt_in = mapped.roles.get(mapping.OPT_IN)
    if not opt_out and not opt_in:
        return None
    return ConsentClaim(
        record_id=record.id,
        object_type=record.object_type,
        at=record.modified_at,
        opted_out=bool(opt_out),
        opted_in=bool(opt_in) and not opt_out,
        evidence=mapped.evidence,
    )


def _count(context, record: CrmRecord, result: PersonWritten, problems, tally: Tally) -> None:
    if result.refused:
        tally.add("failed")
        _keep(context, record, result.refused)
        return
    kind = "created" if result.created else "updated" if result.changed else "unchanged"
    problems = [*problems, *result.problems]
    tally.add(kind, None if problems else record.id)
    if problems:
        _keep(context, record, "Taken without: " + "; ".join(problems))


def _keep(context: SyncContext, record: CrmRecord, error: str) -> None:
    record_error_keep(
        system=context.system, direction=Direction.IN, object_type=record.object_type,
        record_id=record.id, error=error, record=record_payload(record),
    )  # fmt: skip


def _archive(context: SyncContext, records: list[CrmRecord], tally: Tally) -> None:
    """A person archived or deleted in the CRM stays in Cue (their consent history is
    evidence); only the CRM's id is let go, so that it names no one."""
    if not records:
        return
    ContactExternalId.objects.filter(
        source=context.system, value__in=[r.id for r in records]
    ).delete()
    for record in records:
        tally.add("archived", record.id)
