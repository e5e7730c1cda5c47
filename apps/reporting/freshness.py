"""How fresh the dashboard's figures are: when the rollups were last built, and where a
refresh someone asked for stands (for the dashboard's progress line)."""

from datetime import datetime

from django.urls import reverse

from apps.reporting.models import RollupRefresh, RollupState


def figures_refreshed_at() -> datetime | None:
    """When the rollups were last built (by the beat, the demo or someone's refresh)."""
    return RollupState.objects.filter(name="rollups").values_list("last_run_at", flat=True).first()


def rollup_refresh_pending() -> RollupRefresh | None:
    """The refresh waiting or running now, if any (the dashboard follows it on load)."""
    return RollupRefresh.objects.filter(finished_at=None).order_by("pk").first()


def rollup_refresh_status(refresh: RollupRefresh) -> dict:
    """What the dashboard's progress line shows, as JSON."""
    return {
        "id": refresh.pk,
        "progress_url": reverse("admin:reporting_dailyrollup_refresh_progress", args=[refresh.pk]),
        "stage": refresh.stage,
        "words": _words(refresh),
        "done": refresh.finished_at is not None,
        "refreshed_at": _iso(figures_refreshed_at()),
    }


def _words(refresh: RollupRefresh) -> str:
    if refresh.finished_at is not None:
        days = f"{refresh.days} day{'s' if refresh.days != 1 else ''}"
        return f"Figures refreshed ({days} recomputed). Reload the page to see them."
    if refresh.started_at is not None:
        return "Refreshing the figures…"
    return "Refresh queued; waiting for a worker…"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
