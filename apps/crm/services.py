"""The crm app's writes: run a sync, retry a record that failed."""

import logging

from django.db import transaction

from apps.core.queue import task_send
from apps.crm.adapters import CrmError
from apps.crm.connections import adapter_for, connection_configured
from apps.crm.models import Direction, RecordError, System
from apps.crm.push.outbox import push_enqueue
from apps.crm.push.push import outbox_item_retry, outbox_push
from apps.crm.sync.context import SyncContext
from apps.crm.sync.engine import APPLIERS, Progress, SyncBusy, sync_in
from apps.crm.sync.errors import record_from_payload

logger = logging.getLogger(__name__)


def crm_sync_in(*, system: str, full: bool = False, progress: Progress | None = None) -> str:
    """Runs one sync of a connected CRM; the run's status, or why none ran."""
    if not connection_configured(system):
        return "not connected"
    try:
        run = sync_in(adapter=adapter_for(system), full=full, progress=progress)
    except SyncBusy as error:
        return str(error)
    except CrmError as error:
        logger.warning("crm sync of %s could not start: %s", system, error)
        return str(error)
    return run.status


def crm_sync_in_connected() -> list[str]:
    return [
        f"{system}: {crm_sync_in(system=system)}"
        for system in System.values
        if connection_configured(system)
    ]


def crm_sync_enqueue(*, system: str, full: bool = False) -> None:
    """ "Sync now" from the admin: on a worker, after the caller's transaction commits."""
    from apps.crm.tasks import sync_in as sync_in_task

    transaction.on_commit(lambda: task_send(sync_in_task, system, full))


def record_error_retry(*, error: RecordError) -> bool:
    """Applies the kept record again, as the mappings are now; True when it was taken
    whole (the error is then resolved), False when it failed again (the error updated).
    An outbound item the CRM refused is queued again (True)."""
    if error.resolved_at is not None:
        return True
    if error.direction == Direction.OUT:
        retried = outbox_item_retry(system=error.system, key=error.record_id)
        if retried:
            transaction.on_commit(lambda: push_enqueue(error.system))
        return bool(retried)
    record = record_from_payload(error.record)
    with transaction.atomic():
        APPLIERS[record.object_type](SyncContext(error.system), record.object_type, [record])
    error.refresh_from_db()
    return error.resolved_at is not None


def crm_push(*, system: str) -> dict:
    """Pushes one connected CRM's due outbox rows; counts, or why nothing was pushed."""
    if not connection_configured(system):
        return {"skipped": "not connected"}
    try:
        return outbox_push(system=system)
    except CrmError as error:
        logger.warning("crm push to %s could not start: %s", system, error)
        return {"skipped": str(error)}


def crm_push_connected() -> list[str]:
    return [
        f"{system}: {crm_push(system=system)}"
        for system in System.values
        if connection_configured(system)
    ]
