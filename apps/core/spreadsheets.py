"""CSV that is safe to open in a spreadsheet: a cell that would start a formula is defused
with a leading single quote, as OWASP advises against CSV injection."""

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """The text of one cell: None is empty, dates are ISO 8601, formulas are defused."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_write(
    *, columns: list[str], rows: Iterable[Iterable], delimiter: str = ",", crlf: bool = False
) -> str:
    """The whole CSV text, header first, every cell through csv_cell."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow([csv_cell(column) for column in columns])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(*, columns: list[str], rows: Iterable[Iterable]) -> Iterable[str]:
    """The same CSV, one line at a time, for a StreamingHttpResponse."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow([csv_cell(column) for column in columns])
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])
