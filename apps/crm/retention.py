"""Retention of the CRM sync error log: a record Cue could not take keeps the record as the
CRM sent it (names, emails, phone numbers), so an old entry goes. A resolved entry older
than CUE_RETENTION_SYNC_LOG_DAYS is deleted; an unresolved one keeps its row (the error
is still open) but loses the copy of the record. Finished sync runs older than
CUE_RETENTION_SYNC_RUN_DAYS go too, except the last run of each system and direction (the
connection page shows it)."""

from datetime import datetime, timedelta

from django.utils import timezone

from apps.accounts.services import system_user
from apps.crm.models import RecordError, SyncRun
from apps.reporting.models import RetentionRun
from apps.reporting.services.retention import (
    retention_days,
    retention_deleted_batched,
    retention_recorded,
    retention_updated_batched,
)


def sync_log_prune(*, now: datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days("CUE_RETENTION_SYNC_LOG_DAYS"))
    old = RecordError.objects.filter(last_failed_at__lt=cutoff)
    detail = {
        "resolved_deleted": retention_deleted_batched(old.filter(resolved_at__isnull=False)),
        "open_records_cleared": retention_updated_batched(
            old.filter(resolved_at__isnull=True).exclude(record={}), record={}
        ),
    }
    return retention_recorded(RetentionRun.Target.SYNC_LOGS, cutoff, detail, now, system_user())


def sync_runs_prune(*, now: datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days("CUE_RETENTION_SYNC_RUN_DAYS"))
    finished = SyncRun.objects.exclude(status=SyncRun.Status.RUNNING)
    old = finished.filter(started_at__lt=cutoff).exclude(pk__in=_last_runs())
    detail = {"sync_runs": retention_deleted_batched(old)}
    return retention_recorded(RetentionRun.Target.SYNC_RUNS, cutoff, detail, now, system_user())


def _last_runs() -> list[int]:
    """The newest run of each system and direction."""
    pairs = SyncRun.objects.values_list("system", "direction").distinct()
    return [
        SyncRun.objects.filter(system=system, direction=direction).values_list("pk", flat=True)[0]
        for system, direction in pairs
    ]
