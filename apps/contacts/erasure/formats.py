"""An export as files: one JSON document, or a zip of one CSV per kind of rows.

The CSV form is a zip because the kinds have different columns (a message is not an
event); each file's rows are one kind, a history row or a related row (a stage change) is
marked in a `row` column, nested values are JSON text, and cells are defused against
spreadsheet formulas (apps.core.spreadsheets).
"""

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder

from apps.contacts.erasure.services import ContactExport
from apps.core.spreadsheets import csv_write

README = """Everything Cue holds about contact {contact_id}, exported {exported_at}.
One CSV per kind of rows; counts.csv lists the kinds and how many rows each has.
A "row" column says when a row is not the kind itself: "history" (an earlier version kept
by the change history) or a related row (e.g. "stage_change" of an opportunity).
Nested values are JSON.
"""


def export_json(export: ContactExport) -> bytes:
    document = {
        "contact_id": export.contact_id,
        "exported_at": export.exported_at.isoformat(),
        "counts": export.counts,
        "kinds": {
            name: {"label": export.labels[name], "rows": rows}
            for name, rows in export.kinds.items()
        },
    }
    return json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()


def export_csv_zip(export: ContactExport) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            README.format(contact_id=export.contact_id, exported_at=export.exported_at.isoformat()),
        )
        counts = [(name, export.labels[name], n) for name, n in export.counts.items()]
        archive.writestr("counts.csv", csv_write(columns=["kind", "label", "rows"], rows=counts))
        for name, rows in export.kinds.items():
            archive.writestr(f"{name}.csv", _kind_csv(rows))
    return buffer.getvalue()


def _kind_csv(rows: list[dict]) -> str:
    flat = [_flattened(row) for row in rows]
    columns: dict[str, None] = {"row": None}
    for row in flat:
        columns.update(dict.fromkeys(row))
    names = list(columns)
    return csv_write(columns=names, rows=([_cell(row.get(c)) for c in names] for row in flat))


def _flattened(row: dict) -> dict:
    """{"history": {...}} is a history row: its columns, with row=history."""
    if len(row) == 1:
        ((key, value),) = row.items()
        if isinstance(value, dict):
            return {"row": key, **value}
    return {"row": "", **row}


def _cell(value):
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return value
