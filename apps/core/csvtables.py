"""Reading an uploaded CSV whatever its encoding and delimiter: the table every CSV import
(contacts, opportunities) starts from. A file that cannot be read raises CsvFileError on
the field "file", saying why in words a person can act on."""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from itertools import islice

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.core.errors import CueError

ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")


class CsvFileError(CueError):
    """The upload is no readable CSV table."""


DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class CsvTable:
    """A decoded CSV: its column names and its non-blank data rows as (line, cells)."""

    columns: list[str]
    rows: list[tuple[int, list[str]]]
    delimiter: str


def csv_table_read(data: bytes, *, max_rows: int | None = None) -> CsvTable:
    """Decodes and parses an uploaded CSV, or raises CsvFileError saying why."""
    text = _text_decode(data)
    delimiter = _delimiter_sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = _records(reader)
        header = next(records, None)
        if header is None:
            raise CsvFileError("The file is empty.", field="file")
        columns = _columns_check(header[1])
        rows = list(islice(records, max_rows))
    except csv.Error as error:
        raise CsvFileError(f"The file is not a readable CSV: {error}.", field="file") from error
    if not rows and max_rows is None:
        raise CsvFileError("The file has a header row but no rows to import.", field="file")
    return CsvTable(columns=columns, rows=rows, delimiter=delimiter)


def _text_decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise CsvFileError(
        "The file is not CSV text in UTF-8 or Windows-1252. Save it as “CSV UTF-8” and "
        "upload it again.",
        field="file",
    )


def _delimiter_sniff(text: str) -> str:
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _records(reader):
    """(line, cells) for each record that is not blank; line is where the record starts."""
    line = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield line, cells
        line = reader.line_num + 1


def _columns_check(header: list[str]) -> list[str]:
    names = [cell.strip() or f"Column {index}" for index, cell in enumerate(header, 1)]
    for cell in names:
        if _looks_like_data(cell):
            raise CsvFileError(
                f"The first row looks like data ({cell!r}). The file needs a header row that "
                "names the columns.",
                field="file",
            )
    repeated = [name for name, count in Counter(n.lower() for n in names).items() if count > 1]
    if repeated:
        raise CsvFileError(
            f"The header row names the column {repeated[0]!r} more than once.", field="file"
        )
    return names


def _looks_like_data(cell: str) -> bool:
    try:
        validate_email(cell)
    except ValidationError:
        return bool(re.fullmatch(r"[\d\s()+.-]{7,}", cell))
    return True
