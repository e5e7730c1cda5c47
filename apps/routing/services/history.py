"""History rows for set-based writes. A queryset `.update()` skips django-simple-history, so
the SLA sweep copies the rows it changed into the history table in one INSERT … SELECT, with
the system actor and a reason, instead of saving task by task."""

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet


def history_snapshot(queryset: QuerySet, *, reason: str, user_id: int | None, at: datetime) -> int:
    """Appends one '~' (changed) history row for each row of the queryset, as it is now."""
    historical = queryset.model.history.model
    tracked = [f for f in historical._meta.concrete_fields if not f.name.startswith("history_")]
    select_sql, select_params = (
        queryset.order_by().values_list(*[f.attname for f in tracked]).query.sql_with_params()
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in tracked)
    sql = (
        f"INSERT INTO {quote(historical._meta.db_table)} ({columns}, history_date, "
        "history_change_reason, history_type, history_user_id) "
        f"SELECT snapshot.*, %s, %s, %s, %s FROM ({select_sql}) AS snapshot"
    )
    params = [connection.ops.adapt_datetimefield_value(at), reason[:100], "~", user_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *select_params])
        return cursor.rowcount
