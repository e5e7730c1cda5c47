"""Contact imports from CSV: upload, column mapping, and a background run that upserts each
row's contact and records consent only where the row carries its evidence.

The importer lives in the consent app because it writes both contacts and the consent
ledger, and imports point down the app list (contacts never imports consent).
"""

from apps.consent.imports.csvfile import CsvTable, csv_table_read, csv_write
from apps.consent.imports.rows import (
    CONSENT_TARGETS,
    CONTACT_TARGETS,
    IGNORE,
    TARGET_CHOICES,
    RowRejected,
    mapping_suggest,
    row_parse,
    target_choices,
)
from apps.consent.imports.run import CHUNK_SIZE, contact_import_run
from apps.consent.imports.services import (
    MAX_UPLOAD_BYTES,
    contact_import_create,
    contact_import_notes,
    contact_import_preview,
    contact_import_progress,
    contact_import_rejected_csv,
    contact_import_rejections,
    contact_import_start,
)

__all__ = [
    "CHUNK_SIZE",
    "CONSENT_TARGETS",
    "CONTACT_TARGETS",
    "IGNORE",
    "MAX_UPLOAD_BYTES",
    "TARGET_CHOICES",
    "CsvTable",
    "RowRejected",
    "contact_import_create",
    "contact_import_notes",
    "contact_import_preview",
    "contact_import_progress",
    "contact_import_rejected_csv",
    "contact_import_rejections",
    "contact_import_run",
    "contact_import_start",
    "csv_table_read",
    "csv_write",
    "mapping_suggest",
    "row_parse",
    "target_choices",
]
