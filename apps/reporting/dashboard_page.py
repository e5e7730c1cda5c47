"""The dashboard on the admin index (Cue's admin site renders it as part of its index view),
for those who may read reports. It reads rollups only (see apps.reporting.selectors)."""

from datetime import datetime, time, timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from apps.inbox.selectors import inbox_figures, inbox_open_counts
from apps.reporting.charts import bars_svg, funnel_svg, trend_svg
from apps.reporting.forms import DashboardFilterForm
from apps.reporting.freshness import figures_refreshed_at, rollup_refresh_pending
from apps.reporting.selectors import dashboard
from apps.reporting.step_funnel import journey_step_funnel

TREND_SERIES = (
    ("Sent", "sent"),
    ("Delivered", "delivered"),
    ("Human clicks", "human_clicks"),
    ("Replies", "replies"),
    ("Opt-outs", "opt_outs"),
)
OUTCOME_SERIES = (("Meetings", "meetings"), ("Opportunities", "opportunities"))


def dashboard_render(request) -> str:
    """The dashboard's HTML for the admin index; empty for who may not read reports."""
    if not request.user.has_perm("reporting.view_dailyrollup"):
        return ""
    return render_to_string("admin/reporting/dashboard.html", dashboard_context(request), request)


def dashboard_context(request) -> dict:
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters()
    report = dashboard(filters)
    totals = report.totals.values
    query = urlencode({k: v for k, v in request.GET.items() if v})
    return {
        "visible": True,
        "form": form,
        "report": report,
        "totals": report.totals,
        "funnel": funnel_svg(
            [
                ("Enrolled (messaged)", totals["enrolled"]),
                ("Sent", totals["sent"]),
                ("Delivered", totals["delivered"]),
                ("Human clicks", totals["human_clicks"]),
                ("Replies", totals["replies"]),
                ("Meetings booked", totals["meetings"]),
                ("Opportunities", totals["opportunities"]),
            ],
            title="Funnel: from enrollment to opportunity",
        ),
        "trend": _trend(report, TREND_SERIES, "Messages and responses per day"),
        "outcomes": _trend(report, OUTCOME_SERIES, "Attributed outcomes per day"),
        "opt_out_bars": bars_svg(
            [(name, rate, f"of {sent:,} sent") for name, rate, sent in report.template_opt_outs],
            title="Opt-out rate per template",
        )
        if report.template_opt_outs
        else "",
        "failed_by_error": sorted(report.totals.failed_by_error.items(), key=lambda kv: -kv[1]),
        "export_url": f"{reverse('admin:reporting_dailyrollup_export')}?{query}",
        "attribution_export_url": reverse("admin:reporting_attribution_export")
        + "?"
        + urlencode({"start": filters.start, "end": filters.end}),
        "may_audit": request.user.has_perm("reporting.view_audit"),
        **_freshness(request.user),
        **_inbox(report.filters.start),
        **_step_funnel(report.filters),
    }


def _freshness(user) -> dict:
    """When the figures were built, and what the Refresh button needs (a refresh already
    under way is followed as soon as the page loads)."""
    pending = rollup_refresh_pending()
    return {
        "refreshed_at": figures_refreshed_at(),
        "may_refresh": user.has_perm("reporting.add_rolluprefresh"),
        "refresh_url": reverse("admin:reporting_dailyrollup_refresh"),
        "pending_refresh_url": reverse(
            "admin:reporting_dailyrollup_refresh_progress", args=[pending.pk]
        )
        if pending is not None
        else "",
    }


def _step_funnel(filters) -> dict:
    """A chosen journey's steps: who reached each, what its texts did, the goal."""
    if not filters.journey_id:
        return {"steps": None}
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.start, time.min, tzinfo=zone)
    end = datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=zone)
    steps = journey_step_funnel(journey_id=filters.journey_id, start=start, end=end)
    if steps is None:
        return {"steps": None}
    stages = [("Entered", steps.entered)]
    stages += [(f"Reached {step.key}", step.reached) for step in steps.steps]
    stages.append(("Goal reached", steps.goal_reached))
    return {"steps": steps, "steps_funnel": funnel_svg(stages, title=f"Steps of {steps.journey}")}


def _inbox(start) -> dict:
    """First responses since the range's first day, and the conversations open now."""
    now = timezone.now()
    since = datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())
    return {
        "inbox": inbox_figures(since=since, now=now),
        "conversations": inbox_open_counts(now=now),
    }


def _trend(report, series, title: str):
    by_day = dict(report.trend)
    days, day = [], report.filters.start
    while day <= report.filters.end:
        days.append(day)
        day += timedelta(days=1)
    return trend_svg(
        days,
        [(name, [float(by_day.get(d, {}).get(key, 0)) for d in days]) for name, key in series],
        title=title,
    )
