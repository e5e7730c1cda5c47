"""A named lock held until the current transaction ends, for a check that must see every
concurrent writer's rows before acting on them (a budget counted over a rolling window):
without it, two requests count the same rows and both act. PostgreSQL takes a
transaction-level advisory lock; SQLite has one write lock for the whole database, which a
write statement takes until commit."""

import zlib

from django.db import connection
from django.db.transaction import TransactionManagementError


def transaction_lock(name: str) -> None:
    """Waits until no other transaction holds `name`, then holds it until this one ends."""
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "transaction_lock is held until commit: call it in atomic()."
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
        else:
            # A write that changes nothing still begins SQLite's write transaction.
            cursor.execute("UPDATE django_migrations SET id = id WHERE 1 = 0")
