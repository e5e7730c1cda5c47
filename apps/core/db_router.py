"""Reporting reads on a replica: when DATABASE_REPLICA_URL is set, the reads made inside
`replica_reads()` (dashboards, exports, audits) go to the "replica" database; every other
read, and every write wherever it is made, goes to "default"."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
_on_replica: ContextVar[bool] = ContextVar("cue_reads_on_replica", default=False)


@contextmanager
def replica_reads():
    """Reads inside go to the replica if there is one (also a decorator: `@replica_reads()`).
    For reports only: the replica lags behind, so a request never reads there what it has
    just written."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def replica_rows(rows: Iterable) -> Iterator:
    """Streams `rows` read on the replica (a streamed export reads after its view returned)."""
    with replica_reads():
        iterator = iter(rows)  # a queryset reads here already
    while True:
        with replica_reads():
            try:
                row = next(iterator)
            except StopIteration:
                return
        yield row


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _on_replica.get() and settings.DATABASE_REPLICA_URL:
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database and its copy

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
