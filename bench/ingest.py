"""What the two request benches of event ingest (`event_ingest_api`, `segment_intake`) share:
how a run starts and what its raw baseline loads.

- Every timed run, through the product or raw, starts from the same events table: emptied,
  and on PostgreSQL vacuumed, so that no run inserts among the dead rows and dead index
  entries of the one before (a DELETE leaves both, and each unique-key check then visits
  them: the baseline, timed last, paid most for it, by an amount that depended on when
  autovacuum last ran).
- The baseline is the rows the product stored in its last run, read back (the same contact
  ids, keys, types, times and properties), inserted raw into the same table, with the same
  columns the product's insert names: by one COPY on PostgreSQL, executemany on SQLite.
- The product must store nothing but those events: a run that also created contacts would
  be measured against a baseline without them, so that raises.
"""

from collections.abc import Callable

from django.db import connection, transaction

from bench.generators import table_clear
from bench.harness import timed

COLUMNS = "contact_id, type, occurred_at, received_at, properties, source, idempotency_key"


def events_emptied() -> None:
    table_clear("contacts_event")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # not in a transaction: Django autocommits
            cursor.execute("VACUUM contacts_event")


def product_timed(work: Callable[[], object], *, runs: int = 2) -> tuple[float, list[tuple]]:
    """The fastest of `runs` runs of `work`, each from an emptied table, and the rows the
    last one stored."""
    contacts = _contacts_count()
    times = []
    for _ in range(runs):
        events_emptied()
        times.append(timed(work))
    if _contacts_count() != contacts:
        raise RuntimeError("the ingest created contacts: the baseline would not include them")
    return min(times), events_stored()


def events_stored() -> list[tuple]:
    properties = "properties::text" if connection.vendor == "postgresql" else "properties"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {COLUMNS.replace('properties', properties)} FROM contacts_event ORDER BY id"
        )
        return cursor.fetchall()


def raw_timed(rows: list[tuple], *, runs: int = 2) -> float:
    """The fastest of `runs` raw inserts of `rows`, each from an emptied table."""
    times = []
    for _ in range(runs):
        events_emptied()
        times.append(timed(lambda: _raw_insert(rows)))
    events_emptied()
    return min(times)


def _raw_insert(rows: list[tuple]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY contacts_event ({COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO contacts_event ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows
            )


def _contacts_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contacts_contact")
        return cursor.fetchone()[0]
