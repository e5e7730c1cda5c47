from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from apps.core.admin import ReadOnlyAdmin
from apps.core.queue import QUEUE_DOWN, task_send
from apps.reporting.admin.common import csv_response, permission_view
from apps.reporting.audit.entries import contact_audit_name
from apps.reporting.audit.signins import sign_ins_recent
from apps.reporting.audit.trail import Cursor, trail_entries, trail_page
from apps.reporting.forms import (
    AuditTrailFilterForm,
    DateRangeForm,
    SignInFilterForm,
    last_days,
)
from apps.reporting.models import AuditReport, AuditTrail, RetentionRun

VIEW_AUDIT = "reporting.view_audit"
VIEW_SIGN_INS = "axes.view_accesslog"
TRAIL_EXPORT_LIMIT = 50_000
TRAIL_COLUMNS = ["at", "model", "object", "action", "who", "why", "contact_id", "changes"]


@admin.register(AuditReport)
class AuditReportAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "period_start", "period_end", "trigger", "requested_by",
                    "total_findings", "verdict"]  # fmt: skip
    list_filter = ["trigger"]
    list_select_related = ["requested_by"]
    change_form_template = "admin/reporting/auditreport/change_form.html"
    change_list_template = "admin/reporting/auditreport/change_list.html"

    @admin.display(description="Verdict")
    def verdict(self, report: AuditReport) -> str:
        if report.finished_at is None:
            return "running"
        return "clean" if report.is_clean else "FINDINGS"

    def get_urls(self):
        run = permission_view(require_POST(self.run_view), "reporting.run_audit")
        return [path("run/", run, name="reporting_auditreport_run"), *super().get_urls()]

    def run_view(self, request):
        """Runs the audit over the chosen days now, in the background."""
        form = DateRangeForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("__all__", ["Pick two dates."])))
            return redirect("admin:reporting_auditreport_changelist")
        from apps.reporting.tasks import audit_task

        start, end = form.moments()
        user_id = request.user.pk
        if task_send(audit_task, start.isoformat(), end.isoformat(), user_id):
            messages.success(request, "The audit is running; its report appears here when done.")
        else:
            messages.error(request, QUEUE_DOWN)
        return redirect("admin:reporting_auditreport_changelist")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "run_form": DateRangeForm(initial=last_days(7)),
            "may_run": request.user.has_perm("reporting.run_audit"),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        findings = list(report.findings.all()) if report else []
        extra_context = {**(extra_context or {}), "findings": findings}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditTrail)
class AuditTrailAdmin(admin.ModelAdmin):
    """Who did what, when, why, with the before and after: read-only for everyone."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perm(VIEW_AUDIT)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        # The trail is its list page (and an export); there are no rows to open or add.
        kept = {"reporting_audittrail_changelist", "reporting_audittrail_add"}
        export = permission_view(require_GET(self.export_view), VIEW_AUDIT)
        sign_ins = permission_view(require_GET(self.sign_ins_view), VIEW_SIGN_INS)
        return [
            path("export.csv", export, name="reporting_audittrail_export"),
            path("sign-ins/", sign_ins, name="reporting_audittrail_signins"),
            *(url for url in super().get_urls() if getattr(url, "name", None) in kept),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        form = AuditTrailFilterForm(request.GET or None)
        filters = form.filters()
        cursor = Cursor.decode(request.GET.get("before", ""))
        page = trail_page(filters=filters, cursor=cursor)
        query = {k: v for k, v in request.GET.items() if k != "before" and v}
        contact = form.cleaned_data.get("contact") if form.is_bound and form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Audit trail",
            "form": form,
            "filters": filters,
            "contact_name": contact_audit_name(contact) if contact else "",
            "may_read_sign_ins": request.user.has_perm(VIEW_SIGN_INS),
            "page": page,
            "newest_url": f"?{urlencode(query)}",
            "older_url": f"?{urlencode({**query, 'before': page.next_cursor})}"
            if page.next_cursor
            else "",
            "export_url": f"{reverse('admin:reporting_audittrail_export')}?{urlencode(query)}",
            "is_first_page": cursor is None,
        }
        return TemplateResponse(request, "admin/reporting/audittrail/trail.html", context)

    def sign_ins_view(self, request):
        """Who signed in, when, from where, and the failed attempts: apart from the changes."""
        form = SignInFilterForm(request.GET or None)
        sign_ins = sign_ins_recent(filters=form.filters())
        query = {k: v for k, v in request.GET.items() if k != "before" and v}
        older = {**query, "before": sign_ins[-1].at.isoformat()} if sign_ins else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Sign-ins",
            "form": form,
            "sign_ins": sign_ins,
            "older_url": f"?{urlencode(older)}" if older else "",
        }
        return TemplateResponse(request, "admin/reporting/audittrail/sign_ins.html", context)

    def export_view(self, request):
        filters = AuditTrailFilterForm(request.GET or None).filters()
        rows = (
            [
                entry.at,
                entry.source.verbose_name,
                entry.object_label,
                entry.action,
                entry.who,
                entry.why,
                entry.contact_id or "",
                "; ".join(f"{name}: {before} → {after}" for name, before, after in entry.changes),
            ]
            for entry in trail_entries(filters=filters, limit=TRAIL_EXPORT_LIMIT)
        )
        return csv_response(filename="cue-audit-trail.csv", columns=TRAIL_COLUMNS, rows=rows)


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["ran_at", "target", "rows", "cutoff", "actor", "detail"]
    list_filter = ["target"]
    list_select_related = ["actor"]
