"""History rows for set-based writes. A queryset `.update()`, `bulk_update` or a raw insert
skips django-simple-history, so writers that change many rows at once copy what they stored
into the history table in one INSERT … SELECT, with the actor, a reason and the moment,
instead of saving row by row."""

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

CREATED, CHANGED = "+", "~"


def history_rows_insert(
    queryset: QuerySet, *, history_type: str, reason: str, user_id: int | None, at: datetime
) -> int:
    """One history row ("+" created, "~" changed) for each row of the queryset as stored now,
    by `user_id` at `at` for `reason`, in id order. Returns how many were written."""
    historical = queryset.model.history.model
    tracked = [f for f in historical._meta.concrete_fields if not f.name.startswith("history_")]
    select_sql, select_params = (
        queryset.order_by("pk").values_list(*[f.attname for f in tracked]).query.sql_with_params()
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in tracked)
    sql = (
        f"INSERT INTO {quote(historical._meta.db_table)} ({columns}, history_date, "
        "history_change_reason, history_type, history_user_id) "
        f"SELECT snapshot.*, %s, %s, %s, %s FROM ({select_sql}) AS snapshot"
    )
    params = [connection.ops.adapt_datetimefield_value(at), reason[:100], history_type, user_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *select_params])
        return cursor.rowcount
