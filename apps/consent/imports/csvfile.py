"""Reading an uploaded CSV (apps.core.csvtables, shared with other imports), and writing
one back that is safe to open in a spreadsheet."""

from apps.consent.services import ConsentError
from apps.core.csvtables import CsvFileError, CsvTable
from apps.core.csvtables import csv_table_read as core_csv_table_read
from apps.core.spreadsheets import csv_write as spreadsheet_csv_write

__all__ = ["CsvTable", "csv_table_read", "csv_write"]


def csv_table_read(data: bytes, *, max_rows: int | None = None) -> CsvTable:
    """Decodes and parses an uploaded CSV, or raises ConsentError(field="file") saying why."""
    try:
        return core_csv_table_read(data, max_rows=max_rows)
    except CsvFileError as error:
        raise ConsentError(error.message, field="file") from error


def csv_write(*, columns: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    """The rejected rows as CSV text in which no cell can start a spreadsheet formula."""
    return spreadsheet_csv_write(columns=columns, rows=rows, delimiter=delimiter, crlf=True)
