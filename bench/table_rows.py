"""The rows a piece of work inserted, read back from every table, so that a bench can load
exactly those rows raw into the same tables: the baseline for the work itself.

Foreign keys are deferred to commit in Cue's schema (Django's default on both databases),
so the rows are deleted and loaded table by table inside one transaction each."""

from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction


@dataclass
class _Table:
    name: str
    primary_key: str
    before: int  # the highest primary key before the work: the work's rows are above it
    columns: list[str] = field(default_factory=list)
    rows: list = field(default_factory=list)  # tuples (SQLite) or COPY text chunks
    count: int = 0


class TableRows:
    @classmethod
    def before(cls) -> "TableRows":
        tables = []
        with connection.cursor() as cursor:
            for name, key in _numbered_tables():
                cursor.execute(f'SELECT MAX("{key}") FROM "{name}"')
                tables.append(_Table(name, key, cursor.fetchone()[0] or 0))
        return cls(tables)

    def __init__(self, tables: list[_Table]):
        self.tables = tables

    @property
    def total(self) -> int:
        return sum(table.count for table in self.tables)

    def written_read(self) -> None:
        """Reads every row inserted since `before()`; tables without any are dropped."""
        with connection.cursor() as cursor:
            for table in self.tables:
                self._read(cursor, table)
        self.tables = [table for table in self.tables if table.count]

    def _read(self, cursor, table: _Table) -> None:
        where = f'FROM "{table.name}" WHERE "{table.primary_key}" > {int(table.before)}'
        cursor.execute(f"SELECT COUNT(*) {where}")
        table.count = cursor.fetchone()[0]
        if not table.count:
            return
        if connection.vendor == "postgresql":
            query = f'COPY (SELECT * {where} ORDER BY "{table.primary_key}") TO STDOUT'
            with cursor.cursor.copy(query) as copy:
                table.rows = [bytes(chunk) for chunk in copy]
            return
        cursor.execute(f'SELECT * {where} ORDER BY "{table.primary_key}"')
        table.columns = [column[0] for column in cursor.description]
        table.rows = cursor.fetchall()

    def delete(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    f'DELETE FROM "{table.name}" WHERE "{table.primary_key}" > {int(table.before)}'
                )

    def load(self) -> None:
        """The raw load the bench times: every row back, one transaction."""
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables:
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f'COPY "{table.name}" FROM STDIN') as copy:
                        for chunk in table.rows:
                            copy.write(chunk)
                    continue
                names = ", ".join(f'"{c}"' for c in table.columns)
                marks = ", ".join(["%s"] * len(table.columns))
                cursor.executemany(
                    f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', table.rows
                )


def _numbered_tables() -> list[tuple[str, str]]:
    """(table, primary key column) of every table whose rows are numbered in order."""
    numbered = (models.AutoField, models.BigAutoField)
    return sorted(
        {
            (model._meta.db_table, model._meta.pk.column)
            for model in apps.get_models(include_auto_created=True)
            if isinstance(model._meta.pk, numbered) and not model._meta.proxy
        }
    )
