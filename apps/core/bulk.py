"""Set-based writes of many model rows at once."""

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model

ROWS_PER_STATEMENT = 1000


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Saves `fields` of each of `objs` (instances of one model, each with its pk) as
    Django's bulk_update does, in one UPDATE … FROM (VALUES …) per thousand rows.

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
    row = "(" + ", ".join(_placeholder(connection, field) for field in columns) + ")"
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objs
        for field in columns
    ]
    table = quote(model._meta.db_table)
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{index}" for index, field in enumerate(columns[1:], 2)
    )
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(objs))}) AS v"
        f" WHERE {table}.{quote(columns[0].column)} = v.column1"
    )
    return sql, params


def _placeholder(connection, field) -> str:
    """PostgreSQL types each VALUES column from its values, and a column of NULLs and
    quoted strings has none: each value is cast to its column's type. SQLite needs no type."""
    if connection.vendor == "sqlite":
        return "%s"
    # Without its length or precision: an explicit CAST to varchar(16) would cut a longer
    # value short in silence, where assigning it to the column refuses it, as bulk_update does.
    return f"CAST(%s AS {field.cast_db_type(connection).split('(')[0]})"
