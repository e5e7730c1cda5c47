"""Starting an opportunity import (upload, then column mapping) and reading its report."""

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.contacts.errors import ContactsError
from apps.contacts.models import OpportunityImport
from apps.contacts.opportunity_imports.catalog import ImportCatalog
from apps.contacts.opportunity_imports.columns import mapping_clean
from apps.contacts.opportunity_imports.run import opportunity_import_table
from apps.core.csvtables import CsvFileError, CsvTable, csv_table_read
from apps.core.queue import task_send
from apps.core.spreadsheets import csv_write

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
Status = OpportunityImport.Status


@transaction.atomic
def opportunity_import_create(*, upload: UploadedFile, user) -> OpportunityImport:
    """Checks and stores an uploaded CSV; the import then waits for its column mapping."""
    if upload.size > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // 2**20
        raise ContactsError(f"The file is larger than the {limit} MB limit.", field="file")
    if not upload.size:
        raise ContactsError("The file is empty.", field="file")
    upload.seek(0)
    try:
        table = csv_table_read(upload.read())
    except CsvFileError as error:
        raise ContactsError(error.message, field="file") from error
    upload.seek(0)
    return OpportunityImport.objects.create(
        file=upload, original_name=upload.name[:255], total_rows=len(table.rows), created_by=user
    )


def opportunity_import_preview(*, opportunity_import: OpportunityImport, rows: int = 3) -> CsvTable:
    """The file's columns and its first few rows, to map the columns by."""
    return opportunity_import_table(opportunity_import, max_rows=rows)


@transaction.atomic
def opportunity_import_start(
    *, opportunity_import: OpportunityImport, mapping: dict[str, str]
) -> None:
    """Saves the column mapping and queues the run once this transaction commits."""
    columns = opportunity_import_preview(opportunity_import=opportunity_import, rows=0).columns
    mapping = mapping_clean(mapping, columns, ImportCatalog.load())
    queued = OpportunityImport.objects.filter(
        pk=opportunity_import.pk, status=Status.UPLOADED
    ).update(status=Status.QUEUED, mapping=mapping)
    if not queued:
        raise ContactsError("This import has already been started.", code="already_started")
    opportunity_import.status, opportunity_import.mapping = Status.QUEUED, mapping
    transaction.on_commit(lambda: _opportunity_import_enqueue(opportunity_import.pk))


def _opportunity_import_enqueue(import_id: int) -> None:
    from apps.contacts.tasks import opportunity_import_run as task  # tasks import this module

    if not task_send(task, import_id):
        # Nothing would ever run it: back to uploaded, so it can be started again.
        OpportunityImport.objects.filter(pk=import_id, status=Status.QUEUED).update(
            status=Status.UPLOADED
        )


def opportunity_import_rejections(*, opportunity_import: OpportunityImport) -> list[dict]:
    """The rejected rows, [{line, reason, row}], in file order."""
    return [entry for entry in opportunity_import.rejected_rows if "reason" in entry]


def opportunity_import_notes(*, opportunity_import: OpportunityImport) -> list[dict]:
    """Notes on rows that were imported, e.g. a stage kept in history only."""
    return [entry for entry in opportunity_import.rejected_rows if "note" in entry]


def opportunity_import_progress(*, opportunity_import: OpportunityImport) -> dict:
    total = opportunity_import.total_rows
    return {
        "id": opportunity_import.pk,
        "status": opportunity_import.status,
        "status_display": opportunity_import.get_status_display(),
        "total_rows": total,
        "processed_rows": opportunity_import.processed_rows,
        "imported_count": opportunity_import.imported_count,
        "updated_count": opportunity_import.updated_count,
        "rejected_count": opportunity_import.rejected_count,
        "percent": round(100 * opportunity_import.processed_rows / total) if total else 0,
        "finished": opportunity_import.status in (Status.DONE, Status.FAILED),
        "error": opportunity_import.error,
    }


def opportunity_import_rejected_csv(*, opportunity_import: OpportunityImport) -> str:
    """The rejected rows as CSV in the file's own delimiter: the original columns plus the
    reason, safe to open in a spreadsheet."""
    table = opportunity_import_table(opportunity_import, max_rows=0)
    reason = "reason" if "reason" not in table.columns else "import_reason"
    rows = [
        [*entry["row"], *[""] * (len(table.columns) - len(entry["row"])), entry["reason"]]
        for entry in opportunity_import_rejections(opportunity_import=opportunity_import)
    ]
    return csv_write(
        columns=[*table.columns, reason], rows=rows, delimiter=table.delimiter, crlf=True
    )
