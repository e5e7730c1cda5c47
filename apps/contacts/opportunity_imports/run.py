"""The background run of an opportunity import: chunks of rows, each chunk one transaction
and each row a savepoint, so a bad row loses nothing but itself and a crash keeps what
committed. A run is resumable and safe to start twice: each chunk locks the import, starts
at its committed `processed_rows` and moves it forward.

A row names its opportunity by the caller's own key (external id): a known one is updated
(only the cells the row fills), an unknown one or a row without a key creates one. Stage
changes go through the services, so an older one is history only (apps.contacts.stage_changes).
"""

import logging
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from apps.contacts.errors import ContactsError
from apps.contacts.identity import identity_resolve_many
from apps.contacts.models import Contact, Opportunity, OpportunityImport
from apps.contacts.opportunity_imports.catalog import ImportCatalog, RowRejected
from apps.contacts.opportunity_imports.columns import ParsedRow, row_parse
from apps.contacts.services import opportunity_create, opportunity_update
from apps.core.csvtables import CsvTable, csv_table_read

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
Status = OpportunityImport.Status


def opportunity_import_table(
    opportunity_import: OpportunityImport, max_rows: int | None = None
) -> CsvTable:
    with opportunity_import.file.open("rb") as upload:
        return csv_table_read(upload.read(), max_rows=max_rows)


def opportunity_import_run(*, import_id: int) -> OpportunityImport | None:
    """Imports every row of a queued (or interrupted) import, chunk by chunk. A crash marks
    the import failed and keeps the chunks already committed."""
    claimed = OpportunityImport.objects.filter(
        pk=import_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.RUNNING)
    if not claimed:
        return None
    try:
        run = _ImportRun(OpportunityImport.objects.get(pk=import_id))
        while run.chunk_import():
            pass
    except Exception as error:
        logger.exception("Opportunity import %s failed", import_id)
        OpportunityImport.objects.filter(pk=import_id, status=Status.RUNNING).update(
            status=Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
    else:
        OpportunityImport.objects.filter(pk=import_id, status=Status.RUNNING).update(
            status=Status.DONE, finished_at=timezone.now()
        )
    return OpportunityImport.objects.get(pk=import_id)


class _ImportRun:
    """One worker's pass over a file: the catalog (pipelines, stages, attributes) is read
    once for the whole import."""

    def __init__(self, opportunity_import: OpportunityImport):
        self.opportunity_import = opportunity_import
        self.table = opportunity_import_table(opportunity_import)
        self.catalog = ImportCatalog.load()

    def chunk_import(self) -> bool:
        """Imports the next chunk in one transaction; False when there is none left."""
        with transaction.atomic():
            locked = OpportunityImport.objects.select_for_update().get(
                pk=self.opportunity_import.pk
            )
            start = locked.processed_rows
            if locked.status != Status.RUNNING or start >= len(self.table.rows):
                return False
            tally = _Tally()
            self._rows_import(self.table.rows[start : start + CHUNK_SIZE], tally)
            tally.save_into(locked)
        return True

    def _rows_import(self, records: list[tuple[int, list[str]]], tally: "_Tally") -> None:
        parsed = []
        for line, cells in records:
            try:
                parsed.append(self._parse(line, cells))
            except RowRejected as rejected:
                tally.reject(line, cells, str(rejected))
        chunk = _ChunkIndex(parsed)
        for row in parsed:
            self._row_import(row, chunk, tally)

    def _parse(self, line: int, cells: list[str]) -> ParsedRow:
        mapping = self.opportunity_import.mapping
        return row_parse(line, cells, self.table.columns, mapping, self.catalog)

    def _row_import(self, row: ParsedRow, chunk: "_ChunkIndex", tally: "_Tally") -> None:
        try:
            with transaction.atomic():
                existing = chunk.opportunities.get(row.external_id) if row.external_id else None
                contact = chunk.contact(row)
                if existing is None:
                    opportunity, stage = self._create(row, contact)
                else:
                    opportunity, stage = self._update(existing, row, contact)
        except RowRejected as rejected:
            tally.reject(row.line, row.cells, str(rejected))
        except (ContactsError, IntegrityError, DataError) as error:
            tally.reject(row.line, row.cells, _error_reason(error))
        else:
            if row.external_id:
                chunk.opportunities[row.external_id] = opportunity
            notes = _notes(row, opportunity, stage)
            tally.accept(row.line, created=existing is None, notes=notes)

    def _create(self, row: ParsedRow, contact: Contact | None) -> tuple[Opportunity, str]:
        """The new opportunity, and the stage the row gave it."""
        if "name" not in row.values or not row.stage_text:
            raise RowRejected("A new opportunity needs a name and a stage.")
        stage = self.catalog.stage_key(row.stage_text, row.pipeline)
        opportunity = opportunity_create(
            **row.values,
            stage=stage,
            pipeline=row.pipeline,
            contact=contact,
            external_id=row.external_id,
            stage_changed_at=row.stage_changed_at,
            attribute_definitions=self.catalog.attributes,
            **self._closed_at(row, row.pipeline, stage),
        )
        return opportunity, stage

    def _update(
        self, opportunity: Opportunity, row: ParsedRow, contact: Contact | None
    ) -> tuple[Opportunity, str]:
        """The updated opportunity, and the stage the row named ("" for none)."""
        values = dict(row.values)
        pipeline = row.pipeline or opportunity.pipeline
        if row.pipeline is not None:
            values["pipeline"] = row.pipeline
        if row.stage_text:
            values["stage"] = self.catalog.stage_key(row.stage_text, pipeline)
        if contact is not None:
            values["contact"] = contact
        values |= self._closed_at(row, pipeline, values.get("stage", opportunity.stage))
        updated = opportunity_update(
            opportunity=opportunity,
            stage_changed_at=row.stage_changed_at,
            attribute_definitions=self.catalog.attributes,
            **values,
        )
        return updated, values.get("stage", "")

    def _closed_at(self, row: ParsedRow, pipeline, stage: str) -> dict:
        """A close date is kept for a won or lost deal (the services keep none for an open
        one); without a close date the services use the stage's time."""
        if row.close_date is None or not self.catalog.is_closed(pipeline, stage):
            return {}
        return {"closed_at": row.close_date}


def _notes(row: ParsedRow, opportunity: Opportunity, stage: str) -> list[str]:
    notes = []
    if row.close_date is not None and opportunity.closed_at is None:
        notes.append(
            f"Close date {row.close_date:%Y-%m-%d} not kept: the deal is open (Cue keeps a "
            "close date for won or lost deals)."
        )
    if stage and stage != opportunity.stage and row.stage_changed_at:
        notes.append(
            f"Stage {stage} kept in the deal's history only: it changed at "
            f"{row.stage_changed_at:%Y-%m-%d %H:%M}, before the deal reached "
            f"{opportunity.stage} ({opportunity.stage_changed_at:%Y-%m-%d %H:%M})."
        )
    return notes


class _ChunkIndex:
    """The opportunities a chunk's external ids name, and the contacts its contact keys
    name, each found in one query per kind of key (never per row)."""

    def __init__(self, rows: list[ParsedRow]):
        external_ids = {row.external_id for row in rows if row.external_id}
        self.opportunities: dict[str, Opportunity] = Opportunity.objects.select_related(
            "pipeline"
        ).in_bulk(external_ids, field_name="external_id")
        keyed = [row for row in rows if row.contact_keys is not None]
        found = identity_resolve_many([row.contact_keys for row in keyed])
        self.found = {row.line: resolution for row, resolution in zip(keyed, found, strict=True)}
        contact_ids = [r.contact_id for r in found if r.contact_id is not None]
        self.contacts = Contact.objects.in_bulk(contact_ids)

    def contact(self, row: ParsedRow) -> Contact | None:
        """The contact the row names; a row naming none that exists, or two, is rejected."""
        if row.contact_keys is None:
            return None
        found = self.found[row.line]
        if found.conflict is not None:
            raise RowRejected(found.conflict.reason)
        if found.contact_id is None:
            raise RowRejected(f"No contact has {row.contact_keys.describe()}.")
        return self.contacts[found.contact_id]


def _error_reason(error: Exception) -> str:
    if isinstance(error, ContactsError):
        noun = (error.field or "").replace("_", " ")
        return f"{noun.capitalize()}: {error.message}" if noun else error.message
    return f"The database refused the row: {error}"


@dataclass
class _Tally:
    """What one chunk did, added to the import in the chunk's transaction."""

    processed: int = 0
    imported: int = 0
    updated: int = 0
    entries: list[dict] = field(default_factory=list)

    def reject(self, line: int, cells: list[str], reason: str) -> None:
        self.processed += 1
        self.entries.append({"line": line, "reason": reason, "row": cells})

    def accept(self, line: int, *, created: bool, notes: list[str]) -> None:
        self.processed += 1
        self.imported, self.updated = self.imported + created, self.updated + (not created)
        self.entries.extend({"line": line, "note": note} for note in notes)

    def save_into(self, opportunity_import: OpportunityImport) -> None:
        rejected = [entry for entry in self.entries if "reason" in entry]
        opportunity_import.processed_rows += self.processed
        opportunity_import.imported_count += self.imported
        opportunity_import.updated_count += self.updated
        opportunity_import.rejected_count += len(rejected)
        opportunity_import.rejected_rows = [
            *opportunity_import.rejected_rows,
            *sorted(self.entries, key=lambda entry: entry["line"]),
        ]
        opportunity_import.save(
            update_fields=[
                "processed_rows", "imported_count", "updated_count", "rejected_count",
                "rejected_rows",
            ]
        )  # fmt: skip
