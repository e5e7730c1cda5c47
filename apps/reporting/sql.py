"""The few places where SQLite and PostgreSQL spell the same thing differently, for the raw
SQL of reporting (everything else goes through the ORM)."""

from datetime import datetime

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def at_most_seconds_apart(later: str, earlier: str, seconds: int) -> str:
    """SQL true when `later` is at most `seconds` after `earlier` (both timestamp columns).

    PostgreSQL compares intervals exactly; SQLite stores text, which julianday() reads to the
    millisecond, so a millisecond of slack keeps an exact edge inside the window."""
    seconds = int(seconds)
    if is_postgres():
        return f"({later} - {earlier}) <= INTERVAL '{seconds} seconds'"
    return f"(julianday({later}) - julianday({earlier})) * 86400.0 <= {seconds}.001"


def json_bigint(column: str, key: str) -> str:
    """The integer under `key` of a JSON column, or NULL when it is missing or not a number."""
    if not key.isidentifier():
        raise ValueError(f"not a plain JSON key: {key!r}")
    if is_postgres():
        return (
            f"(CASE WHEN jsonb_typeof({column} -> '{key}') = 'number' "
            f"THEN ({column} ->> '{key}')::numeric::bigint END)"
        )
    return (
        f"(CASE WHEN json_type({column}, '$.{key}') = 'integer' "
        f"THEN json_extract({column}, '$.{key}') END)"
    )


def datetime_param(value: datetime):
    """A timezone-aware datetime as the driver stores it (SQLite keeps naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)
