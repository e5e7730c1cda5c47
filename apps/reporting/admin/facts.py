from django.contrib import admin, messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin
from apps.core.queue import QUEUE_DOWN, task_send
from apps.reporting.admin.common import csv_response, permission_view
from apps.reporting.forms import DashboardFilterForm, DateRangeForm, last_days
from apps.reporting.freshness import rollup_refresh_status
from apps.reporting.models import Attribution, DailyRollup, FatigueBreach, RollupRefresh
from apps.reporting.selectors import (
    ATTRIBUTION_EXPORT_COLUMNS,
    attribution_export_rows,
    dashboard,
)
from apps.reporting.services.rollups import rollup_refresh_request

DASHBOARD_COLUMNS = [
    ("enrolled", "enrolled"), ("enrolled_holdout", "holdout"), ("sent", "sent"),
    ("delivered", "delivered"), ("failed", "failed"), ("human_clicks", "human clicks"),
    ("replies", "replies"), ("opt_outs", "opt-outs"), ("complaints", "complaints"),
    ("quiet_hours_deferrals", "quiet-hours deferrals"), ("cap_suppressions", "cap suppressions"),
    ("tasks_created", "tasks created"), ("sla_met", "SLA met"), ("sla_missed", "SLA missed"),
    ("meetings", "meetings"), ("opportunities", "opportunities"),
    ("progressions", "stage progressions"), ("revenue", "revenue influenced"),
]  # fmt: skip


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    """The pre-aggregated days the dashboard reads; kept up to date by the beat."""

    list_display = [
        "day", "journey_id", "template_id", "template_version_id", "step_id", "sent",
        "delivered", "human_clicks", "replies", "opt_outs", "meetings",
    ]  # fmt: skip
    list_filter = ["day"]
    date_hierarchy = "day"
    show_full_result_count = False

    def get_urls(self):
        export = permission_view(self.export_view, "reporting.view_dailyrollup")
        refresh = permission_view(self.refresh_view, "reporting.add_rolluprefresh")
        progress = permission_view(self.refresh_progress_view, "reporting.view_dailyrollup")
        return [
            path("export.csv", export, name="reporting_dailyrollup_export"),
            path("refresh/", refresh, name="reporting_dailyrollup_refresh"),
            path(
                "refresh/<int:refresh_id>/",
                progress,
                name="reporting_dailyrollup_refresh_progress",
            ),
            *super().get_urls(),
        ]

    def refresh_view(self, request):
        """POST: queue a refresh of the figures; answers where it stands (JSON, 202)."""
        if request.method != "POST":
            return JsonResponse({"error": "Refresh with a POST."}, status=405)
        refresh = rollup_refresh_request(user=request.user)
        return JsonResponse(rollup_refresh_status(refresh), status=202)

    def refresh_progress_view(self, request, refresh_id: int):
        """Where a refresh stands, for the dashboard's progress line to poll."""
        refresh = RollupRefresh.objects.filter(pk=refresh_id).first()
        if refresh is None:
            return JsonResponse(
                {"error": "No such refresh: it could not be queued. Try again."}, status=404
            )
        return JsonResponse(rollup_refresh_status(refresh))

    def export_view(self, request):
        """The dashboard table as CSV, for the same filters as the dashboard."""
        filters = DashboardFilterForm(request.GET or None).filters()
        report = dashboard(filters)
        columns = [
            filters.group_by,
            *(label for _, label in DASHBOARD_COLUMNS),
            "opt-out rate",
            "SLA met rate",
            "median minutes to first touch",
        ]
        rows = (
            [
                row.label,
                *(row.figures.values[name] for name, _ in DASHBOARD_COLUMNS),
                _rounded(row.figures.opt_out_rate),
                _rounded(row.figures.sla_met_rate),
                row.figures.median_first_touch_minutes,
            ]
            for row in report.rows
        )
        name = f"cue-{filters.group_by}s-{filters.start}-{filters.end}.csv"
        return csv_response(filename=name, columns=columns, rows=rows)


def _rounded(rate):
    return "" if rate is None else round(rate, 4)


@admin.register(Attribution)
class AttributionAdmin(ReadOnlyAdmin):
    list_display = ["converted_at", "kind", "conversion_id", "contact_id", "message_link",
                    "touch_type", "touched_at", "journey_id", "template_id", "step_id",
                    "credit", "value", "model"]  # fmt: skip
    list_filter = ["kind", "touch_type", "model"]
    date_hierarchy = "converted_at"
    show_full_result_count = False
    change_list_template = "admin/reporting/attribution/change_list.html"

    @admin.display(description="Message")
    def message_link(self, row: Attribution):
        url = reverse("admin:sends_outboundmessage_change", args=[row.message_id])
        return format_html('<a href="{}">#{}</a>', url, row.message_id)

    def get_urls(self):
        export = permission_view(self.export_view, "reporting.view_attribution")
        recompute = permission_view(self.recompute_view, "reporting.change_attributionsettings")
        return [
            path("export.csv", export, name="reporting_attribution_export"),
            path("recompute/", recompute, name="reporting_attribution_recompute"),
            *super().get_urls(),
        ]

    def export_view(self, request):
        form = DateRangeForm(request.GET if "start" in request.GET else last_days(30))
        if not form.is_valid():
            form = DateRangeForm(last_days(30))
            form.is_valid()
        start, end = form.moments()
        rows = attribution_export_rows(start=start, end=end)
        name = f"cue-attribution-{form.cleaned_data['start']}-{form.cleaned_data['end']}.csv"
        return csv_response(filename=name, columns=ATTRIBUTION_EXPORT_COLUMNS, rows=rows)

    def recompute_view(self, request):
        """After the rule changed: recompute a range now (in the background)."""
        form = DateRangeForm(
            request.POST if request.method == "POST" else None, initial=last_days(90)
        )
        if request.method == "POST" and form.is_valid():
            from apps.reporting.tasks import reporting_recompute_task

            first, last = (form.cleaned_data[name].isoformat() for name in ("start", "end"))
            if task_send(reporting_recompute_task, first, last):
                messages.success(
                    request,
                    f"Recomputing attribution from {form.cleaned_data['start']} to "
                    f"{form.cleaned_data['end']}; the dashboard follows when it is done.",
                )
            else:
                messages.error(request, QUEUE_DOWN)
            return redirect("admin:reporting_attribution_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Recompute attribution",
            "form": form,
        }
        return TemplateResponse(request, "admin/reporting/attribution/recompute.html", context)


@admin.register(FatigueBreach)
class FatigueBreachAdmin(ReadOnlyAdmin):
    list_display = ["detected_at", "journey", "template", "metric", "rate_percent",
                    "limit_percent", "messages", "hits", "journey_paused"]  # fmt: skip
    list_filter = ["metric", "journey_paused"]
    list_select_related = ["journey", "template"]
    show_full_result_count = False
