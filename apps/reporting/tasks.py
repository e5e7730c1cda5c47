"""Thin Celery tasks: each calls one service. All are safe to run twice."""

from datetime import date

from celery import shared_task
from django.utils.dateparse import parse_datetime

from apps.accounts.models import User
from apps.reporting.models import AuditReport
from apps.reporting.services.audits import audit_run
from apps.reporting.services.fatigue import fatigue_guard_run
from apps.reporting.services.retention import retention_prune
from apps.reporting.services.rollups import (
    reporting_recompute,
    reporting_refresh,
    rollup_refresh_run,
)


@shared_task(name="reporting.refresh")
def reporting_refresh_task() -> int:
    """Attribution and daily rollups of every day touched since the last run."""
    return len(reporting_refresh())


@shared_task(name="reporting.refresh_requested")
def rollup_refresh_task(refresh_id: int) -> int:
    """A refresh a person asked for from the dashboard; safe to deliver twice."""
    refresh = rollup_refresh_run(refresh_id=refresh_id)
    return refresh.days if refresh is not None else 0


@shared_task(name="reporting.recompute")
def reporting_recompute_task(first: str, last: str) -> int:
    """A person's recompute of some days (after changing the attribution settings)."""
    return reporting_recompute(first=date.fromisoformat(first), last=date.fromisoformat(last))


@shared_task(name="reporting.fatigue_guard")
def fatigue_guard_task() -> int:
    return len(fatigue_guard_run())


@shared_task(name="reporting.audit")
def audit_task(start: str | None = None, end: str | None = None, user_id: int | None = None):
    """The weekly audit (no arguments), or one a person asked for from the admin."""
    if start is None:
        return audit_run().pk
    return audit_run(
        start=parse_datetime(start),
        end=parse_datetime(end),
        requested_by=User.objects.get(pk=user_id),
        trigger=AuditReport.Trigger.ON_DEMAND,
    ).pk


@shared_task(name="reporting.retention_prune")
def retention_prune_task() -> int:
    return sum(run.rows for run in retention_prune())
