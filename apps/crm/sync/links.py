"""The links between CRM companies and deals and the Cue rows they became (RecordLink)."""

from apps.contacts.batch_rows import rows_insert
from apps.crm.adapters import CrmRecord
from apps.crm.models import ObjectType, RecordLink

_COLUMNS = (
    "system", "object_type", "record_id", "company_id", "opportunity_id", "modified_at",
    "archived",
)  # fmt: skip


def links_touch(links: dict[str, RecordLink], records: list[CrmRecord]) -> None:
    """Notes the CRM's modification time last taken, and that each link is live again, in
    one statement for the page; links already so are not written."""
    stale = []
    for record in records:
        link = links[record.id]
        if (link.modified_at, link.archived) != (record.modified_at, False):
            link.modified_at, link.archived = record.modified_at, False
            stale.append(link)
    RecordLink.objects.bulk_update(stale, ["modified_at", "archived"])


def links_create(system: str, object_type: str, made: list[tuple[CrmRecord, int]]) -> None:
    """The links of the records a page created, each (record, the id of the company or
    opportunity it became), in one statement of plain rows: building a RecordLink each for
    bulk_create was a visible share of a full sync. A link raced in by another writer
    breaks the unique key (IntegrityError), as bulk_create would."""
    company = object_type == ObjectType.COMPANY
    rows = [
        (system, object_type, record.id, *((pk, None) if company else (None, pk)),
         record.modified_at, False)
        for record, pk in made
    ]  # fmt: skip
    rows_insert(RecordLink, _COLUMNS, rows)
