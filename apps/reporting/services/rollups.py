from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from apps.accounts.models import User
from apps.core.queue import task_send
from apps.journeys.models import Enrollment
from apps.reporting.models import DailyRollup, RollupRefresh
from apps.reporting.rollups import rollup_rows, touched_days, watermarks_now
from apps.reporting.services.attribution import attribution_days_rebuild, attribution_refresh
from apps.reporting.services.common import day_ranges, state_lock
from apps.sends.models import MessageOrigin, OutboundMessage


@transaction.atomic
def rollups_rebuild(*, first: date, last: date) -> int:
    """Replaces the rollups of the days from `first` to `last` (both included) with freshly
    computed ones; returns how many rows it wrote."""
    DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
    rows = rollup_rows(first=first, last=last)
    DailyRollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def reporting_recompute(*, first: date, last: date) -> int:
    """After the attribution rule changed: attribution, then rollups, of these days."""
    attribution_days_rebuild(
        days={first + timedelta(days=n) for n in range((last - first).days + 1)}
    )
    return rollups_rebuild(first=first, last=last)


@transaction.atomic
def reporting_refresh(*, today: date | None = None) -> list[date]:
    """What the beat runs: attribution first (rollups read it), then the rollups of every
    day touched since the last run, plus today and yesterday. The first run builds all the
    days with journey activity. Returns the days recomputed."""
    today = today or timezone.localdate()
    state = state_lock("rollups")
    until = watermarks_now()
    days = attribution_refresh(today=today) | {today, today - timedelta(days=1)}
    if not state.watermarks:
        days |= _all_days(today)
    else:
        days |= touched_days(since=state.watermarks, until=until)
    floor = today - timedelta(days=settings.CUE_RETENTION_MESSAGE_DAYS)
    days = {day for day in days if floor <= day <= today}
    for first, last in day_ranges(days):
        rollups_rebuild(first=first, last=last)
    state.watermarks, state.last_run_at = until, timezone.now()
    state.last_days = [day.isoformat() for day in sorted(days)][-60:]
    state.save()
    return sorted(days)


def _all_days(today: date) -> set[date]:
    earliest = [
        OutboundMessage.objects.filter(origin=MessageOrigin.JOURNEY).aggregate(
            first=Min("created_at")
        )["first"],
        Enrollment.objects.aggregate(first=Min("entered_at"))["first"],
    ]
    found = [timezone.localdate(moment) for moment in earliest if moment is not None]
    first = min(found) if found else today
    return {first + timedelta(days=n) for n in range((today - first).days + 1)}


@transaction.atomic
def rollup_refresh_request(*, user: User) -> RollupRefresh:
    """A person's "refresh now": one refresh waiting or running at a time serves everyone
    who asks meanwhile; a new one is queued on a worker after this transaction commits."""
    pending = RollupRefresh.objects.filter(finished_at=None).order_by("pk").first()
    if pending is not None:
        return pending
    refresh = RollupRefresh.objects.create(requested_by=user, requested_at=timezone.now())
    transaction.on_commit(lambda: _rollup_refresh_enqueue(refresh.pk))
    return refresh


def _rollup_refresh_enqueue(refresh_id: int) -> None:
    from apps.reporting.tasks import rollup_refresh_task as task

    if not task_send(task, refresh_id):
        # Nothing would ever run it: gone, so that the next click queues one again.
        RollupRefresh.objects.filter(pk=refresh_id, started_at=None).delete()


def rollup_refresh_run(*, refresh_id: int) -> RollupRefresh | None:
    """Runs a requested refresh once: claimed by a conditional UPDATE (committed at once,
    so the dashboard sees it running), then the beat's own refresh, then marked done.
    None when another worker claimed it, or it is gone."""
    claimed = RollupRefresh.objects.filter(pk=refresh_id, started_at=None).update(
        started_at=timezone.now()
    )
    if not claimed:
        return None
    days = reporting_refresh()
    RollupRefresh.objects.filter(pk=refresh_id).update(finished_at=timezone.now(), days=len(days))
    return RollupRefresh.objects.get(pk=refresh_id)
