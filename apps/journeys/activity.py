"""The append-only activity log of each enrollment: every step taken, every decision."""

import threading
from contextlib import contextmanager

from apps.core.bulk import rows_insert
from apps.journeys.models import Activity, Enrollment

_batch = threading.local()


def activity_log(enrollment: Enrollment, kind: str, reason: str, *, step_key: str = "", **detail):
    entry = Activity(
        enrollment=enrollment, kind=kind, reason=reason[:500], step_key=step_key, detail=detail
    )
    pending = getattr(_batch, "entries", None)
    if pending is None:
        entry.save()
    else:
        pending.append(entry)
    return entry


@contextmanager
def activity_batched():
    """Entries logged inside the block are written in one COPY when it ends (in the
    caller's transaction). Yields the pending list, so a caller that rolls back part of
    its work can drop that part's entries too."""
    if getattr(_batch, "entries", None) is not None:  # already batching: join it
        yield _batch.entries
        return
    _batch.entries = []
    try:
        yield _batch.entries
        rows_insert(_batch.entries)
    finally:
        _batch.entries = None
