"""Opportunity imports from CSV: upload, column mapping, and a background run that creates
or updates each row's opportunity, with a report of every rejected row and why.

Columns: the opportunity's own external id (the key the caller owns: a row with a known one
updates that opportunity, a row without one creates a new one; no key is ever made from the
name), name, amount, currency, pipeline and stage (key or label), close date, when the stage
changed in the source, the contact it belongs to (by external id, email or phone, through
the identity service) and the opportunity's custom attributes.
"""

from apps.contacts.opportunity_imports.catalog import ImportCatalog, RowRejected
from apps.contacts.opportunity_imports.columns import (
    IGNORE,
    mapping_suggest,
    row_parse,
    target_choices,
)
from apps.contacts.opportunity_imports.run import CHUNK_SIZE, opportunity_import_run
from apps.contacts.opportunity_imports.services import (
    MAX_UPLOAD_BYTES,
    opportunity_import_create,
    opportunity_import_notes,
    opportunity_import_preview,
    opportunity_import_progress,
    opportunity_import_rejected_csv,
    opportunity_import_rejections,
    opportunity_import_start,
)

__all__ = [
    "CHUNK_SIZE",
    "IGNORE",
    "MAX_UPLOAD_BYTES",
    "ImportCatalog",
    "RowRejected",
    "mapping_suggest",
    "opportunity_import_create",
    "opportunity_import_notes",
    "opportunity_import_preview",
    "opportunity_import_progress",
    "opportunity_import_rejected_csv",
    "opportunity_import_rejections",
    "opportunity_import_run",
    "opportunity_import_start",
    "row_parse",
    "target_choices",
]
