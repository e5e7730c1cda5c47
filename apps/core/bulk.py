"""Set-based writes of many model rows at once."""

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import CharField, JSONField, Model, TextField

from apps.core.jsonio import json_dumps_bytes

ROWS_PER_STATEMENT = 1000


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Saves `fields` of each of `objs` (instances of one model, each with its pk) as
    Django's bulk_update does, in one UPDATE … FROM (VALUES …) per thousand rows (on
    PostgreSQL FROM unnest(…) of one array per column).

    bulk_update writes a CASE WHEN per field and row, and Django builds and compiles each
    of those expressions in Python: for a hundred rows of nine fields that costs many times
    what the database spends on the update. Here each value is only prepared for the
    database. Like bulk_update: no signals, no history rows, no auto_now."""
    if not objs:
        return 0
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    columns = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    updated = 0
    for start in range(0, len(objs), ROWS_PER_STATEMENT):
        sql, params = _update_sql(
            connection, model, columns, objs[start : start + ROWS_PER_STATEMENT]
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


def _update_sql(connection, model, columns, objs) -> tuple[str, list]:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{index}" for index, field in enumerate(columns[1:], 2)
    )
    where = f" WHERE {table}.{quote(columns[0].column)} = v.column1"
    if connection.vendor == "postgresql":
        return _update_sql_arrays(connection, table, assignments, where, columns, objs)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objs
        for field in columns
    ]
    sql = f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(objs))}) AS v"
    return sql + where, params


def _update_sql_arrays(connection, table, assignments, where, columns, objs) -> tuple[str, list]:
    """PostgreSQL: one array per column, unnested into rows. A statement with a placeholder
    per value costs psycopg more to split into its parts (about 30 µs a placeholder, in
    Python) than the database spends on the update; this one has a placeholder per column.
    Each array is cast to its column's type, without length or precision: an explicit CAST
    to varchar(16) would cut a longer value short in silence, where assigning it to the
    column refuses it, as bulk_update does."""
    arrays = ", ".join(
        f"CAST(%s AS {field.cast_db_type(connection).split('(')[0]}[])" for field in columns
    )
    names = ", ".join(f"column{index}" for index in range(1, len(columns) + 1))
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        for field in columns
    ]
    sql = f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names})"
    return sql + where, params


def rows_insert(objs: Sequence[Model], *, with_ids: bool = False) -> None:
    """Inserts `objs` (new instances of one model) as Django's bulk_create does; on
    PostgreSQL by one COPY, each row's values formatted by psycopg's C code and its JSON by
    orjson, where bulk_create binds every value of a large INSERT in Python. `with_ids`:
    each instance gets its id, drawn from the table's sequence first (COPY returns none).

    A constraint or trigger that refuses a row raises IntegrityError for the whole COPY,
    as it would for the INSERT. Like bulk_create: no signals, no save(), auto_now_add set.
    SQLite, and a model with a database default or a generated column, go by bulk_create."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    if connection.vendor != "postgresql" or any(_computed(f) for f in fields):
        model.objects.bulk_create(objs)
        return
    if with_ids:
        _ids_draw(connection, model, objs)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            copy.write_row([_copy_value(connection, field, obj) for field in fields])
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def _computed(field) -> bool:
    return getattr(field, "generated", False) or getattr(field, "has_db_default", lambda: False)()


def _ids_draw(connection, model, objs) -> None:
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), pk.column, len(objs)],
        )
        for obj, (value,) in zip(objs, cursor.fetchall(), strict=True):
            setattr(obj, pk.attname, value)


# Exactly these classes (not a subclass, which may prepare its text its own way): a str
# value is prepared as itself, so it goes to COPY as it is, skipping Django's four calls.
_PLAIN_TEXT_FIELDS = (CharField, TextField)


def _copy_value(connection, field, obj):
    value = field.pre_save(obj, add=True)
    if type(value) is str and type(field) in _PLAIN_TEXT_FIELDS:
        return value
    if isinstance(field, JSONField) and value is not None and field.encoder is None:
        return json_dumps_bytes(value).decode()  # the JSON text jsonb parses
    return field.get_db_prep_save(value, connection)
