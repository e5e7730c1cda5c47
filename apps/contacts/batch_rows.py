"""Rows of a batch written in a few statements, without the ORM's per-field preparation.

`bulk_create` prepares every field of every row one at a time in Python (a phone number
is parsed, validated and formatted again for each contact, and again for its history
row); for a CRM's full sync that was most of the time. The batch writers hand over values
already in the model's form (checked by the batch's own rules) and these functions only
adapt the few types the database driver does not take as they are:

- `rows_insert`: PostgreSQL takes the rows by COPY, with their ids drawn from the table's
  sequence beforehand (COPY returns none); SQLite by multi-row INSERTs, ids by RETURNING.
  `instances_insert` does the same for unsaved model instances, as `bulk_create` would.
- `history_rows_copy`: the history rows of rows just written, copied from the table in
  one INSERT … SELECT (apps.core.history), so they hold exactly what was stored, with the
  actor and reason.

A unique key broken by another writer meanwhile raises Django's IntegrityError, as
`bulk_create` would (the CRM sync applies the page again)."""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from django.db import connection, models
from django.utils import timezone

from apps.core.history import history_rows_insert

_SQLITE_ROWS_A_STATEMENT = 500  # rows × columns stay under SQLite's 32,766 variables
_IDS_A_STATEMENT = 30_000  # SQLite's variables again; PostgreSQL parses the list


def rows_insert(model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> list[int]:
    """Inserts `rows` (values for `columns`, attnames, in the model's Python form) and
    returns their new ids, in order."""
    if not rows:
        return []
    adapters = [
        (i, a) for i, name in enumerate(columns) if (a := _adapter(model._meta.get_field(name)))
    ]
    if adapters:
        rows = [_adapted(row, adapters) for row in rows]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _copy_in(cursor, table, names, rows)
        return _values_in(cursor, table, names, len(columns), rows)


def instances_insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Inserts unsaved instances and gives each its id, as `bulk_create` would (auto_now
    fields set), reading the values as they are: for models whose fields hold plain values
    (not phone numbers, which a Contact holds parsed)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for field_ in fields:
        if getattr(field_, "auto_now", False) or getattr(field_, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field_.attname, now)
    columns = [f.attname for f in fields]
    ids = rows_insert(model, columns, [tuple(obj.__dict__[c] for c in columns) for obj in objs])
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def _adapted(row: tuple, adapters: list[tuple[int, Callable[[Any], Any]]]) -> list:
    values = list(row)
    for at, adapt in adapters:
        if values[at] is not None:
            values[at] = adapt(values[at])
    return values


def _copy_in(cursor, table: str, names: str, rows: list[tuple]) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, len(rows)],
    )
    ids = [pk for (pk,) in cursor.fetchall()]
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} (id, {names}) FROM STDIN") as copy,
    ):
        for pk, row in zip(ids, rows, strict=True):
            copy.write_row((pk, *row))
    return ids


def _values_in(cursor, table: str, names: str, width: int, rows: list[tuple]) -> list[int]:
    ids = []
    for start in range(0, len(rows), _SQLITE_ROWS_A_STATEMENT):
        chunk = rows[start : start + _SQLITE_ROWS_A_STATEMENT]
        cursor.execute(
            f"INSERT INTO {table} ({names}) VALUES {_placeholders(width, len(chunk))} RETURNING id",
            list(chain.from_iterable(chunk)),
        )
        # Ids rise in the order the rows are inserted, whatever order RETURNING lists them.
        ids += sorted(pk for (pk,) in cursor.fetchall())
    return ids


@lru_cache(maxsize=64)
def _placeholders(width: int, count: int) -> str:
    row = f"({', '.join(['%s'] * width)})"
    return ", ".join([row] * count)


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of this field reaches the driver, when not as it is."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: json.dumps(value, cls=encoder)
    if connection.vendor != "sqlite":
        return None  # psycopg adapts datetimes, dates and decimals itself
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    if isinstance(field, models.DateField):
        return str
    if isinstance(field, models.DecimalField):
        return lambda value: connection.ops.adapt_decimalfield_value(
            field.to_python(value), field.max_digits, field.decimal_places
        )
    return None


@lru_cache(maxsize=4096)  # a batch's rows share their times (created_at, updated_at)
def _sqlite_datetime(moment: datetime) -> str:
    """Django's own conversion (UTC, without the zone), without its checks per value."""
    return str(moment.astimezone(connection.timezone).replace(tzinfo=None))


def history_rows_copy(
    model: type[models.Model],
    ids: Sequence[int],
    *,
    history_type: str,
    reason: str,
    user_id: int | None,
    at: datetime,
) -> None:
    """One django-simple-history row ("+" created, "~" changed) for each of these rows as
    they are stored now, by `user_id` at `at` for `reason` (core's snapshot, by id chunks)."""
    for start in range(0, len(ids), _IDS_A_STATEMENT):
        chunk = list(ids[start : start + _IDS_A_STATEMENT])
        # The bounds say nothing new; they tell PostgreSQL's planner the rows lie in one
        # stretch of ids (a batch's new rows do), which it reads by the primary key. On
        # the list alone it reckoned a page's 2,000 ids cheaper to find by reading the
        # whole table once that held some 100,000 rows: every page of a full sync slowed
        # with the rows stored before it.
        rows = model._base_manager.filter(pk__gte=min(chunk), pk__lte=max(chunk), pk__one_of=chunk)
        history_rows_insert(rows, history_type=history_type, reason=reason, user_id=user_id, at=at)
