"""Monthly partitions on PostgreSQL for the tables that grow with every message or event,
so retention drops a month at a time instead of deleting rows. SQLite keeps plain tables:
every function here does nothing there.

PostgreSQL's rules shape the design. A partitioned table's primary key and unique
constraints must include the partition column, and a foreign key can reference it only
through such a constraint. So:
- the database's primary key is (id, <column>); Django still treats `id` as the key, and
  ids come from one sequence, so an id alone still names one row;
- each column the model declares unique (a send key, a provider's id) is kept unique
  through a narrow, unpartitioned key table that triggers write on insert and update (once
  per INSERT statement, over its new rows): a duplicate raises the same unique violation
  (IntegrityError) a unique index would, and a concurrent insert of the same value waits
  on the first as it would on the index;
- an insert that skips a taken key instead (ON CONFLICT DO NOTHING, which needs a unique
  index to name) claims the keys first and inserts the rows that got theirs:
  keyed_insert_sql;
- foreign keys to these tables are db_constraint=False (Django emulates on_delete; a
  dropped month first deletes or clears what points at its rows, see retention).

The model state keeps `unique=True` and `id` as the primary key (SQLite enforces both as
before); a later migration that alters those columns on PostgreSQL must go through this
module, not AlterField. An app declares its tables in `PARTITIONED_TABLES` in its models
module; the housekeeping task creates their coming months ahead of time."""

from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.db import connection as default_connection
from django.db import transaction

MONTHS_AHEAD = 3


@dataclass(frozen=True)
class Partitioned:
    """A table partitioned by month on `column`; `keys` are its unique columns."""

    table: str
    column: str
    keys: tuple[str, ...] = ()

    @property
    def default_partition(self) -> str:
        return f"{self.table}_default"

    def partition(self, month: date) -> str:
        return f"{self.table}_p{month:%Y_%m}"

    def key_table(self, key: str) -> str:
        return f"{self.table}_unique_{key}"


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None: the DEFAULT partition
    end: datetime | None


def is_partitioning(connection=None) -> bool:
    return (connection or default_connection).vendor == "postgresql"


def declared_partitioned_tables() -> list[Partitioned]:
    return [
        spec
        for app_config in apps.get_app_configs()
        for spec in getattr(app_config.models_module, "PARTITIONED_TABLES", ())
    ]


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


# The migration: a plain table becomes a partitioned one, and back.


def table_partition(
    connection, spec: Partitioned, *, today: date, months_back: int | None = None
) -> None:
    """Converts the plain table into one partitioned by month, in the migration's
    transaction: partitions for every month its rows fall in (at most `months_back` months
    before today's: a column a client fills may hold any old time, and older rows go to
    DEFAULT instead of a partition each) and MONTHS_AHEAD more, a DEFAULT partition so an
    insert never fails, the rows moved with their ids, the sequence continued, the indexes
    and outgoing foreign keys re-created, and the unique columns' key tables filled."""
    if not is_partitioning(connection):
        return
    t = spec.table
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE")
        _refuse_referencing_keys(cursor, t)
        _refuse_unknown_uniques(cursor, spec)
        indexes = _fetch(cursor, _NON_UNIQUE_INDEXES, t)
        foreign_keys = _fetch_rows(cursor, _OUTGOING_FOREIGN_KEYS, t)
        cursor.execute(f"SELECT min({spec.column}), max(id) FROM {t}")
        oldest, last_id = cursor.fetchone()
        cursor.execute(f"SELECT last_value FROM {t}_id_seq")
        last_id = max(last_id or 0, cursor.fetchone()[0])
        cursor.execute(f"ALTER TABLE {t} RENAME TO {t}_unpartitioned")
        cursor.execute(
            f"CREATE TABLE {t} (LIKE {t}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            f" PARTITION BY RANGE ({spec.column})"
        )
        # Its id default names the old table's sequence, which goes with that table.
        cursor.execute(f"ALTER TABLE {t} ALTER COLUMN id DROP DEFAULT")
        first = month_of(oldest or today)
        if months_back is not None:
            first = max(first, month_add(month_of(today), -months_back))
        _partitions_create(cursor, spec, first, today)
        cursor.execute(f"INSERT INTO {t} SELECT * FROM {t}_unpartitioned")
        cursor.execute(f"DROP TABLE {t}_unpartitioned")
        cursor.execute(f"CREATE SEQUENCE {t}_id_seq OWNED BY {t}.id")
        cursor.execute(f"ALTER TABLE {t} ALTER COLUMN id SET DEFAULT nextval('{t}_id_seq')")
        cursor.execute("SELECT setval(%s, %s)", [f"{t}_id_seq", max(last_id, 1)])
        cursor.execute(f"ALTER TABLE {t} ADD CONSTRAINT {t}_pkey PRIMARY KEY (id, {spec.column})")
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {t} ADD CONSTRAINT {name} {definition}")
        for key in spec.keys:
            _key_table_create(cursor, spec, key)


def table_unpartition(connection, spec: Partitioned) -> None:
    """The reverse: one plain table again, with its unique columns as unique constraints."""
    if not is_partitioning(connection):
        return
    t = spec.table
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE")
        indexes = _fetch(cursor, _NON_UNIQUE_INDEXES, t)
        foreign_keys = _fetch_rows(cursor, _OUTGOING_FOREIGN_KEYS, t)
        for key in spec.keys:
            cursor.execute(f"DROP TABLE {spec.key_table(key)}")
            _key_triggers_drop(cursor, spec, key)
        cursor.execute(f"ALTER TABLE {t} RENAME TO {t}_partitioned")
        cursor.execute(
            f"CREATE TABLE {t} (LIKE {t}_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(f"INSERT INTO {t} SELECT * FROM {t}_partitioned")
        cursor.execute(f"ALTER SEQUENCE {t}_id_seq OWNED BY {t}.id")
        cursor.execute(f"DROP TABLE {t}_partitioned")
        cursor.execute(f"ALTER TABLE {t} ADD CONSTRAINT {t}_pkey PRIMARY KEY (id)")
        for key in spec.keys:
            cursor.execute(f"ALTER TABLE {t} ADD CONSTRAINT {t}_{key}_key UNIQUE ({key})")
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {t} ADD CONSTRAINT {name} {definition}")


_NON_UNIQUE_INDEXES = """
    SELECT pg_get_indexdef(indexrelid) FROM pg_index
    WHERE indrelid = %s::regclass AND NOT indisunique ORDER BY indexrelid"""
_OUTGOING_FOREIGN_KEYS = """
    SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0 ORDER BY conname"""


def _fetch(cursor, sql: str, *params) -> list:
    cursor.execute(sql, params)
    return [row[0] for row in cursor.fetchall()]


def _fetch_rows(cursor, sql: str, *params) -> list[tuple]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def _refuse_referencing_keys(cursor, table: str) -> None:
    """A foreign key to the table would block it: it must be db_constraint=False first."""
    names = _fetch(
        cursor,
        "SELECT conrelid::regclass || '.' || conname FROM pg_constraint"
        " WHERE confrelid = %s::regclass AND contype = 'f'",
        table,
    )
    if names:
        raise RuntimeError(f"Foreign keys still point at {table}: {', '.join(names)}")


def _refuse_unknown_uniques(cursor, spec: Partitioned) -> None:
    """Every unique index but the primary key must be one the key tables take over: any
    other would be silently lost."""
    columns = _fetch(
        cursor,
        "SELECT string_agg(a.attname, ',') FROM pg_index i"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisunique AND NOT i.indisprimary"
        " GROUP BY i.indexrelid",
        spec.table,
    )
    if sorted(columns) != sorted(spec.keys):
        raise RuntimeError(f"{spec.table}'s unique indexes are {columns}, expected {spec.keys}")


def _key_table_create(cursor, spec: Partitioned, key: str) -> None:
    """The key table, filled from the rows, and the triggers that keep it."""
    kt, column = spec.key_table(key), spec.column
    cursor.execute(
        f"CREATE TABLE {kt} (value text PRIMARY KEY, row_id bigint NOT NULL,"
        f" partition_at timestamptz NOT NULL)"
    )
    cursor.execute(f"CREATE INDEX {kt}_partition_at ON {kt} (partition_at)")
    cursor.execute(
        f"INSERT INTO {kt} SELECT {key}, id, {column} FROM {spec.table} WHERE {key} IS NOT NULL"
    )
    _key_triggers_create(cursor, spec, key)


def key_triggers_replace(connection, spec: Partitioned) -> None:
    """Drops the key tables' triggers, whatever form they have, and creates the current ones
    (a migration brings an existing database to them)."""
    if not is_partitioning(connection):
        return
    with connection.cursor() as cursor:
        for key in spec.keys:
            _key_triggers_drop(cursor, spec, key)
            _key_triggers_create(cursor, spec, key)


def keyed_insert_sql(spec: Partitioned, key: str, columns: tuple[str, ...], rows: str) -> str:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id, key, for a partitioned table,
    which has no unique index on `key` to name. The rows of the query `rows` (giving
    `columns` in that order, the NOT NULL `key` among them) each draw their id and claim
    their key with it in the key table, in the keys' order (two statements that share keys
    wait on each other instead of deadlocking; a key held by a transaction still open is
    waited for, as the index would be); only the rows that claimed theirs are inserted, and
    the insert trigger finds those keys already theirs. A key taken is skipped, not
    refused."""
    t, kt = spec.table, spec.key_table(key)
    names, values = ", ".join(columns), ", ".join(f"n.{column}" for column in columns)
    return (
        f"WITH batch ({names}) AS ({rows}), "
        f"numbered AS (SELECT nextval('{t}_id_seq') AS id, * FROM batch), "
        f"claimed AS (INSERT INTO {kt} (value, row_id, partition_at)"
        f" SELECT {key}, id, {spec.column} FROM numbered ORDER BY {key}"
        f" ON CONFLICT (value) DO NOTHING RETURNING row_id) "
        f"INSERT INTO {t} (id, {names}) SELECT n.id, {values}"
        f" FROM numbered n JOIN claimed c ON c.row_id = n.id ORDER BY n.id "
        f"RETURNING id, {key}"
    )


def key_owners(spec: Partitioned, key: str, values: list[str]) -> dict[str, int]:
    """{value: id of the row that holds it} for the values taken, read from the key table:
    one index probe each, where the table's own index would be probed in every partition."""
    with default_connection.cursor() as cursor:
        cursor.execute(
            f"SELECT value, row_id FROM {spec.key_table(key)} WHERE value = ANY(%s)", [values]
        )
        return dict(cursor.fetchall())


_KEY_FUNCTIONS = ("keep", "claim", "release", "empty")


def _key_triggers_drop(cursor, spec: Partitioned, key: str) -> None:
    for function in _KEY_FUNCTIONS:  # CASCADE: with the triggers that call it
        cursor.execute(f"DROP FUNCTION IF EXISTS {spec.key_table(key)}_{function}() CASCADE")


def _key_triggers_create(cursor, spec: Partitioned, key: str) -> None:
    """The triggers that keep a key table: an INSERT statement claims its rows' values and a
    DELETE statement releases them, each once per statement over its transition table (a
    thousand messages inserted cost one trigger call, not a thousand); a row whose value or
    month changes moves its claim, row by row. A TRUNCATE (the test runner's flush) empties
    the key table.

    A row that an UPDATE moves to another month's partition is deleted and inserted again
    underneath, but PostgreSQL fires only the UPDATE triggers for it: its claim stays, and
    the row trigger on the partition column gives it its new month."""
    t, kt, column = spec.table, spec.key_table(key), spec.column
    refusal = (
        f"RAISE unique_violation USING CONSTRAINT = '{kt}',"
        f" MESSAGE = 'duplicate key value violates unique constraint \"{kt}\"',"
        f" DETAIL = format('Key ({key})=(%s) already exists.', taken);"
    )
    # Claimed in the values' order, so two statements that share values wait on each other
    # instead of deadlocking. ON CONFLICT DO NOTHING waits, as a unique index does, for a
    # transaction that holds the value uncommitted; a value it could not claim (taken, or
    # twice in the statement) is a unique violation, the same error the index would raise.
    # A value already claimed for the very row is its own: keyed_insert_sql claims before
    # it inserts.
    cursor.execute(f"""
        CREATE FUNCTION {kt}_claim() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          claimed bigint;
          taken text;
        BEGIN
          INSERT INTO {kt} (value, row_id, partition_at)
            SELECT {key}, id, {column} FROM new_rows WHERE {key} IS NOT NULL ORDER BY {key}
            ON CONFLICT (value) DO NOTHING;
          GET DIAGNOSTICS claimed = ROW_COUNT;
          IF claimed < (SELECT count(*) FROM new_rows WHERE {key} IS NOT NULL) THEN
            SELECT n.{key} INTO taken FROM new_rows n
              WHERE n.{key} IS NOT NULL AND NOT EXISTS (
                SELECT FROM {kt} k WHERE k.value = n.{key} AND k.row_id = n.id)
              ORDER BY n.{key} LIMIT 1;
            IF FOUND THEN
              {refusal}
            END IF;
          END IF;
          RETURN NULL;
        END $$""")
    cursor.execute(
        f"CREATE TRIGGER {kt}_insert AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {kt}_claim()"
    )
    cursor.execute(f"""
        CREATE FUNCTION {kt}_release() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM {kt} k USING old_rows o WHERE k.value = o.{key} AND k.row_id = o.id;
          RETURN NULL;
        END $$""")
    cursor.execute(
        f"CREATE TRIGGER {kt}_delete AFTER DELETE ON {t} REFERENCING OLD TABLE AS old_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {kt}_release()"
    )
    cursor.execute(f"""
        CREATE FUNCTION {kt}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          taken text := NEW.{key};
        BEGIN
          IF OLD.{key} IS NOT NULL AND OLD.{key} IS DISTINCT FROM NEW.{key} THEN
            DELETE FROM {kt} WHERE value = OLD.{key} AND row_id = OLD.id;
          END IF;
          IF NEW.{key} IS NOT NULL THEN
            INSERT INTO {kt} AS k VALUES (NEW.{key}, NEW.id, NEW.{column})
              ON CONFLICT (value) DO UPDATE SET partition_at = EXCLUDED.partition_at
              WHERE k.row_id = EXCLUDED.row_id;
            IF NOT FOUND THEN
              {refusal}
            END IF;
          END IF;
          RETURN NEW;
        END $$""")
    # A WHEN clause, so that an update that changes neither (a message's every status
    # change) costs no function call.
    cursor.execute(
        f"CREATE TRIGGER {kt}_update BEFORE UPDATE OF {key}, {column} ON {t} FOR EACH ROW"
        f" WHEN (OLD.{key} IS DISTINCT FROM NEW.{key}"
        f" OR OLD.{column} IS DISTINCT FROM NEW.{column}) EXECUTE FUNCTION {kt}_keep()"
    )
    cursor.execute(
        f"CREATE FUNCTION {kt}_empty() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN TRUNCATE {kt}; RETURN NULL; END $$"
    )
    cursor.execute(
        f"CREATE TRIGGER {kt}_empty AFTER TRUNCATE ON {t}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {kt}_empty()"
    )


# Housekeeping: months ahead, and the list retention reads.


def _partitions_create(cursor, spec: Partitioned, first: date, today: date) -> list[str]:
    """Creates the month partitions from `first` to MONTHS_AHEAD months after today that
    do not exist yet, and the DEFAULT partition; returns the names created."""
    existing = set(_fetch(cursor, _PARTITION_NAMES, spec.table))
    created = []
    month, last = first, month_add(month_of(today), MONTHS_AHEAD)
    while month <= last:
        name = spec.partition(month)
        if name not in existing:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {spec.table} FOR VALUES FROM (%s) TO (%s)",
                [_start(month), _start(month_add(month, 1))],
            )
            created.append(name)
        month = month_add(month, 1)
    if spec.default_partition not in existing:
        cursor.execute(f"CREATE TABLE {spec.default_partition} PARTITION OF {spec.table} DEFAULT")
        created.append(spec.default_partition)
    return created


_PARTITION_NAMES = "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass"


def _start(month: date) -> str:
    """A month starts at midnight UTC (partition bounds are absolute instants)."""
    return f"{month:%Y-%m-%d} 00:00:00+00"


def partitions_extend(*, today: date) -> list[str]:
    """Creates the coming months' partitions of every declared table ahead of time (the
    housekeeping task, daily); returns the names created. A month whose rows already sit
    in the DEFAULT partition cannot be created: PostgreSQL refuses, and the task fails
    loudly rather than move rows under a running system (those rows stay in DEFAULT)."""
    if not is_partitioning():
        return []
    created = []
    for spec in declared_partitioned_tables():
        with transaction.atomic(), default_connection.cursor() as cursor:
            created += _partitions_create(cursor, spec, month_of(today), today)
    return created


def partitions_list(spec: Partitioned) -> list[Partition]:
    """The table's partitions, oldest first, the DEFAULT one last."""
    if not is_partitioning():
        return []
    with default_connection.cursor() as cursor:
        rows = _fetch_rows(
            cursor,
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            spec.table,
        )
    return sorted((_partition(name, bound) for name, bound in rows), key=_partition_order)


def _partition(name: str, bound: str) -> Partition:
    if bound == "DEFAULT":
        return Partition(name, None, None)
    # "FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00')"
    start, end = bound.split("'")[1], bound.split("'")[3]
    return Partition(name, datetime.fromisoformat(start), datetime.fromisoformat(end))


def _partition_order(partition: Partition):
    return (partition.start is None, partition.start or datetime.min)


def partitions_ending_by(spec: Partitioned, cutoff: datetime) -> list[Partition]:
    """The month partitions whose every row is older than the cutoff."""
    return [p for p in partitions_list(spec) if p.end is not None and p.end <= cutoff]


def partition_ids(partition: Partition, *, after: int, limit: int) -> list[int]:
    """Ids of the partition's rows, in order, for dependants to be cleared in batches."""
    with default_connection.cursor() as cursor:
        return _fetch(
            cursor,
            f"SELECT id FROM {partition.name} WHERE id > %s ORDER BY id LIMIT %s",
            after,
            limit,
        )


def partition_drop(spec: Partitioned, partition: Partition) -> int:
    """DETACH and DROP one month, and release its rows' unique keys; returns its rows."""
    with transaction.atomic(), default_connection.cursor() as cursor:
        # A table with deferred foreign-key checks pending in this transaction cannot be
        # dropped: run them now (Django's foreign keys are all INITIALLY DEFERRED).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SELECT count(*) FROM {partition.name}")
        rows = cursor.fetchone()[0]
        cursor.execute(f"ALTER TABLE {spec.table} DETACH PARTITION {partition.name}")
        for key in spec.keys:
            cursor.execute(
                f"DELETE FROM {spec.key_table(key)} WHERE partition_at >= %s AND partition_at < %s",
                [partition.start, partition.end],
            )
        cursor.execute(f"DROP TABLE {partition.name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return rows
