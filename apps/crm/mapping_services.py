"""The writes the admin's CRM pages make besides a sync: stage mappings suggested from the
CRM's own pipelines, and every open failed record retried at once. (Kept apart from
services.py, the sync's own writes.)"""

import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction

from apps.crm.adapters import PipelineInfo
from apps.crm.models import ObjectType, RecordError, StageMapping
from apps.crm.services import record_error_retry
from apps.crm.stage_suggestions import StageSuggestion, stage_suggestions
from apps.crm.sync.errors import record_error_keep

logger = logging.getLogger(__name__)

# One click retries at most this many records; the page says how many are left.
RETRY_BATCH = 500
# The order a sync applies object types in: companies before the people and deals that
# point at them, so a retried deal finds the retried contact.
_ORDER = [t.value for t in ObjectType]


@transaction.atomic
def stage_mappings_suggest(*, system: str, pipelines: list[PipelineInfo]) -> list[StageSuggestion]:
    """Maps each unmapped CRM deal stage to the Cue stage it plainly means; answers every
    suggestion, the ones left unmapped (stage None) included."""
    suggestions = stage_suggestions(system, pipelines)
    for suggestion in suggestions:
        if suggestion.stage is not None:
            StageMapping.objects.get_or_create(
                system=system,
                kind=StageMapping.Kind.DEAL,
                crm_pipeline=suggestion.crm_pipeline,
                crm_stage=suggestion.crm_stage,
                defaults={"pipeline_stage": suggestion.stage},
            )
    return suggestions


@dataclass(frozen=True)
class RetryResult:
    taken: int
    failed: int
    left: int  # open errors this batch did not reach


def record_errors_retry(*, system: str, limit: int = RETRY_BATCH) -> RetryResult:
    """Retries the open failed records of a CRM, each in its own transaction (one that
    fails again keeps its new error and holds back none of the others)."""
    errors = list(RecordError.objects.filter(system=system, resolved_at__isnull=True))
    errors.sort(key=lambda e: (_ORDER.index(e.object_type), e.last_failed_at, e.pk))
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
