"""The crm app's writes besides a sync's own pages: run a sync, push the outbox, retry
the records that failed, and the stage mappings suggested from the CRM's own stages."""

import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction

from apps.core.queue import task_send
from apps.crm.adapters import CrmError, PipelineInfo
from apps.crm.connections import adapter_for, connection_configured
from apps.crm.models import Direction, ObjectType, RecordError, StageMapping, System
from apps.crm.push.outbox import push_enqueue
from apps.crm.push.push import outbox_item_retry, outbox_push
from apps.crm.stage_suggestions import (
    StageSuggestion,
    lifecycle_suggestions,
    stage_suggestions,
)
from apps.crm.sync.context import SyncContext
from apps.crm.sync.engine import APPLIERS, Progress, SyncBusy, sync_in
from apps.crm.sync.errors import record_error_keep, record_from_payload

logger = logging.getLogger(__name__)

# One click retries at most this many records; the page says how many are left.
RETRY_BATCH = 500
# The order a sync applies object types in: companies before the people and deals that
# point at them, so a retried deal finds the retried contact. Outbound items (SMS
# activities, consent changes: not CRM object types) come after them.
_ORDER = {object_type: place for place, object_type in enumerate(ObjectType.values)}


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


@transaction.atomic
def stage_mappings_suggest(*, system: str, pipelines: list[PipelineInfo]) -> list[StageSuggestion]:
    """Maps each unmapped CRM deal stage to the Cue stage it plainly means; answers every
    suggestion, the ones left unmapped (stage None) included."""
    suggestions = stage_suggestions(system, pipelines)
    _suggestions_map(system, StageMapping.Kind.DEAL, "pipeline_stage", suggestions)
    return suggestions


@transaction.atomic
def lifecycle_mappings_suggest(*, system: str, values: list[str]) -> list[StageSuggestion]:
    """Maps each unmapped lifecycle value of the CRM to the Cue lifecycle stage it plainly
    means; answers every suggestion, the ones left unmapped (stage None) included."""
    suggestions = lifecycle_suggestions(system, values)
    _suggestions_map(system, StageMapping.Kind.LIFECYCLE, "lifecycle_stage", suggestions)
    return suggestions


def _suggestions_map(system: str, kind: str, target: str, suggestions) -> None:
    """A mapping for each suggestion that found its stage; one made meanwhile is kept."""
    for suggestion in suggestions:
        if suggestion.stage is not None:
            StageMapping.objects.get_or_create(
                system=system,
                kind=kind,
                crm_pipeline=suggestion.crm_pipeline,
                crm_stage=suggestion.crm_stage,
                defaults={target: suggestion.stage},
            )


@dataclass(frozen=True)
class RetryResult:
    taken: int
    failed: int
    left: int  # open errors this batch did not reach


def record_errors_retry(*, system: str, limit: int = RETRY_BATCH) -> RetryResult:
    """Retries the open failed records of a CRM, each in its own transaction (one that
    fails again keeps its new error and holds back none of the others)."""
    errors = list(RecordError.objects.filter(system=system, resolved_at__isnull=True))
    errors.sort(key=lambda e: (_ORDER.get(e.object_type, len(_ORDER)), e.last_failed_at, e.pk))
    taken = failed = 0
    for error in errors[:limit]:
        if record_error_try(error=error):
            taken += 1
        else:
            failed += 1
    return RetryResult(taken, failed, max(len(errors) - limit, 0))


def record_error_try(*, error: RecordError) -> bool:
    """record_error_retry, with a database refusal kept as the record's error instead of
    ending the request: it stays open, with the reason, for the next attempt."""
    try:
        return record_error_retry(error=error)
    except DatabaseError as refusal:
        logger.warning("retry of %s failed in the database", error, exc_info=True)
        record_error_keep(
            system=error.system, direction=error.direction, object_type=error.object_type,
            record_id=error.record_id, error=f"The database refused it: {refusal}",
            record=error.record,
        )  # fmt: skip
        return False
