"""`make bench`: runs every scenario in bench/scenarios on a database of its own.

BENCH_SCALE scales the sizes (1 = full size); BENCH_ONLY=name,name picks scenarios (the
results of the others stay as their last run left them).
The database is the configured one (DATABASE_URL), in a separate bench database.
"""

import importlib
import os
import pkgutil
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# Production-like: DEBUG off (no query logging), with a throwaway key for this process only.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())
# In-process requests (Django's test client) come from "testserver" over plain http.
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Hand-offs go to an in-memory broker: the bench measures Cue, not a queue on disk.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")


def main() -> int:
    import django

    django.setup()
    from django.db import connection

    from bench import harness, scenarios

    _bench_database(connection)
    wanted = {n for n in os.environ.get("BENCH_ONLY", "").split(",") if n}
    try:
        first = True
        for info in pkgutil.iter_modules(scenarios.__path__):
            if wanted and info.name not in wanted:
                continue
            module = importlib.import_module(f"bench.scenarios.{info.name}")
            if not first:
                _empty(connection)  # each scenario starts from empty
            first = False
            print(f"# {info.name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
            figures = []
            for figure in module.run():
                print(figure.line(), flush=True)
                figures.append(figure)
            # Saved scenario by scenario: a long run stopped midway keeps what it measured.
            machine = harness.machine_description(connection.vendor, _server_version(connection))
            path = harness.results_save(connection.vendor, machine, {info.name: figures})
            print(f"wrote {path} and {path.parent / 'results.md'}", flush=True)
    finally:
        _bench_database_drop(connection)
    return 0


def _bench_database(connection) -> None:
    from django.conf import settings

    test = connection.settings_dict.setdefault("TEST", {})
    suffix = os.environ.get("BENCH_DB_SUFFIX", "")
    if connection.vendor == "sqlite":
        test["NAME"] = str(settings.VAR_DIR / f"bench{suffix}.sqlite3")
    else:
        test["NAME"] = f"cue_bench{suffix}"
        _leftover_drop(connection, test["NAME"])
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)


def _empty(connection) -> None:
    """PostgreSQL empties its tables with one TRUNCATE; SQLite would DELETE ten million
    rows one by one through every index, so it starts again from a new file instead.

    The consent ledger and template approvals refuse TRUNCATE unless the transaction says
    it is a deliberate wipe of the whole database, which emptying the bench database is."""
    if connection.vendor == "sqlite":
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, keepdb=False, serialize=False
        )
        return
    from django.core.management.color import no_style
    from django.core.management.sql import emit_post_migrate_signal, sql_flush
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL cue.allow_truncate = 'on'")
        connection.ops.execute_sql_flush(sql_flush(no_style(), connection))
    # As `manage.py flush` does: the roles and other rows migrations made come back.
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    # The brand a data migration seeded went with the flush; lint and replies need one.
    from apps.accounts.demo import brand_seed_demo

    brand_seed_demo()


def _leftover_drop(connection, name: str) -> None:
    """A bench that was killed leaves its database (and maybe sessions) behind."""
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _bench_database_drop(connection) -> None:
    if connection.vendor == "postgresql":
        # Worker threads may still hold sessions; the bench database is ours to end.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def _server_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
