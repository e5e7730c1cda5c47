"""Starting an import (upload, then column mapping) and reading its report."""

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.consent.imports.csvfile import CsvTable, csv_table_read, csv_write
from apps.consent.imports.rows import mapping_clean
from apps.consent.imports.run import contact_import_table
from apps.consent.services import ConsentError
from apps.contacts.models import ContactImport
from apps.core.queue import task_send

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
Status = ContactImport.Status


@transaction.atomic
def contact_import_create(*, upload: UploadedFile, user) -> ContactImport:
    """Checks and stores an uploaded CSV; the import then waits for its column mapping."""
    if upload.size > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // 2**20
        raise ConsentError(f"The file is larger than the {limit} MB limit.", field="file")
    if not upload.size:
        raise ConsentError("The file is empty.", field="file")
    upload.seek(0)
    table = csv_table_read(upload.read())
    upload.seek(0)
    return ContactImport.objects.create(
        file=upload,
        original_name=upload.name[:255],
        total_rows=len(table.rows),
        created_by=user,
    )


def contact_import_preview(*, contact_import: ContactImport, rows: int = 3) -> CsvTable:
    """The file's columns and its first few rows, to map the columns by."""
    return contact_import_table(contact_import, max_rows=rows)


@transaction.atomic
def contact_import_start(*, contact_import: ContactImport, mapping: dict[str, str]) -> None:
    """Saves the column mapping and queues the run once this transaction commits."""
    columns = contact_import_preview(contact_import=contact_import, rows=0).columns
    mapping = mapping_clean(mapping, columns)
    queued = ContactImport.objects.filter(pk=contact_import.pk, status=Status.UPLOADED).update(
        status=Status.QUEUED, mapping=mapping
    )
    if not queued:
        raise ConsentError("This import has already been started.", code="already_started")
    contact_import.status, contact_import.mapping = Status.QUEUED, mapping
    transaction.on_commit(lambda: _contact_import_enqueue(contact_import.pk))


def _contact_import_enqueue(import_id: int) -> None:
    from apps.consent.tasks import contact_import_run as task

    if not task_send(task, import_id):
        # Nothing would ever run it: back to uploaded, so it can be started again.
        ContactImport.objects.filter(pk=import_id, status=Status.QUEUED).update(
            status=Status.UPLOADED
        )


def contact_import_rejections(*, contact_import: ContactImport) -> list[dict]:
    """The rejected rows, [{line, reason, row}], in file order."""
    return [entry for entry in contact_import.rejected_rows if "reason" in entry]


def contact_import_notes(*, contact_import: ContactImport) -> list[dict]:
    """Notes on rows that were imported, e.g. consent left out for want of evidence."""
    return [entry for entry in contact_import.rejected_rows if "note" in entry]


def contact_import_progress(*, contact_import: ContactImport) -> dict:
    total = contact_import.total_rows
    return {
        "id": contact_import.pk,
        "status": contact_import.status,
        "status_display": contact_import.get_status_display(),
        "total_rows": total,
        "processed_rows": contact_import.processed_rows,
        "imported_count": contact_import.imported_count,
        "updated_count": contact_import.updated_count,
        "rejected_count": contact_import.rejected_count,
        "percent": round(100 * contact_import.processed_rows / total) if total else 0,
        "finished": contact_import.status in (Status.DONE, Status.FAILED),
        "error": contact_import.error,
    }


def contact_import_rejected_csv(*, contact_import: ContactImport) -> str:
    """The rejected rows as CSV, in the file's own delimiter: the original columns plus the
    reason, safe to open in a spreadsheet."""
    table = contact_import_table(contact_import, max_rows=0)
    reason = "reason" if "reason" not in table.columns else "import_reason"
    rows = [
        [*entry["row"], *[""] * (len(table.columns) - len(entry["row"])), entry["reason"]]
        for entry in contact_import_rejections(contact_import=contact_import)
    ]
    return csv_write(columns=[*table.columns, reason], rows=rows, delimiter=table.delimiter)
