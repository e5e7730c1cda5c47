"""Admin for opportunity imports, in the shape of the contact import: the add page uploads
a CSV, then a mapping page, a progress page that polls a JSON status, and the report with
its rejected rows as CSV. The views only wire forms to apps.contacts.opportunity_imports."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.contacts import opportunity_imports as imports
from apps.contacts.errors import ContactsError
from apps.contacts.models import OpportunityImport
from apps.core.queue import QUEUE_DOWN

REPORT_ROWS_SHOWN = 500


class OpportunityImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"Up to {imports.MAX_UPLOAD_BYTES // 2**20} MB, with a header row naming the "
            "columns. Comma, semicolon or tab separated; UTF-8 or Windows-1252."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class OpportunityImportMappingForm(forms.Form):
    """One dropdown per column of the file, pre-filled from the column's name."""

    def __init__(self, *args, columns: list[str], catalog: imports.ImportCatalog, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = columns
        choices = imports.target_choices(catalog)
        suggested = imports.mapping_suggest(columns=columns, catalog=catalog)
        for index, column in enumerate(columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column, choices=choices, initial=suggested[column]
            )

    def mapping(self) -> dict[str, str]:
        return {column: self.cleaned_data[f"column_{i}"] for i, column in enumerate(self.columns)}


@admin.register(OpportunityImport)
class OpportunityImportAdmin(admin.ModelAdmin):
    list_display = [
        "original_name", "status", "total_rows", "processed_rows", "imported_count",
        "updated_count", "rejected_count", "created_by", "created_at",
    ]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["created_by"]
    search_fields = ["original_name"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # an import is a record of what happened; its page is the report

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<int:import_id>/mapping/", wrap(self.mapping_view), name=f"{info}_mapping"),
            path("<int:import_id>/status/", wrap(self.status_view), name=f"{info}_status"),
            path(
                "<int:import_id>/rejected.csv",
                wrap(self.rejected_csv_view),
                name=f"{info}_rejected_csv",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OpportunityImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                opportunity_import = imports.opportunity_import_create(
                    upload=form.cleaned_data["file"], user=request.user
                )
            except ContactsError as error:
                form.add_error("file", error.message)
            else:
                return redirect(self._url("mapping", opportunity_import.pk))
        return self._render(request, "upload.html", "Import opportunities from CSV", form=form)

    def mapping_view(self, request, import_id: int):
        opportunity_import = get_object_or_404(OpportunityImport, pk=import_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if opportunity_import.status != OpportunityImport.Status.UPLOADED:
            return redirect(self._url("change", opportunity_import.pk))
        preview = imports.opportunity_import_preview(opportunity_import=opportunity_import)
        form = OpportunityImportMappingForm(
            request.POST or None,
            columns=preview.columns,
            catalog=imports.ImportCatalog.load(),
        )
        if request.method == "POST" and form.is_valid():
            try:
                imports.opportunity_import_start(
                    opportunity_import=opportunity_import, mapping=form.mapping()
                )
            except ContactsError as error:
                form.add_error(None, error.message)
            else:
                opportunity_import.refresh_from_db(fields=["status"])
                if opportunity_import.status == OpportunityImport.Status.UPLOADED:
                    # Not queued after all (the broker was unreachable): start it again.
                    messages.error(request, QUEUE_DOWN)
                    return redirect(self._url("mapping", opportunity_import.pk))
                messages.success(request, f"The import of “{opportunity_import}” is queued.")
                return redirect(self._url("change", opportunity_import.pk))
        samples = [
            [cells[i] if i < len(cells) else "" for _, cells in preview.rows]
            for i in range(len(preview.columns))
        ]
        return self._render(
            request,
            "mapping.html",
            f"Map the columns of {opportunity_import}",
            original=opportunity_import,
            form=form,
            columns=list(zip(form, samples, strict=True)),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        opportunity_import = self.get_object(request, unquote(object_id))
        if opportunity_import is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, opportunity_import):
            raise PermissionDenied
        if (
            opportunity_import.status == OpportunityImport.Status.UPLOADED
            and self.has_add_permission(request)
        ):
            return redirect(self._url("mapping", opportunity_import.pk))
        rejections = imports.opportunity_import_rejections(opportunity_import=opportunity_import)
        return self._render(
            request,
            "report.html",
            f"Import of {opportunity_import}",
            original=opportunity_import,
            progress=imports.opportunity_import_progress(opportunity_import=opportunity_import),
            columns=self._report_columns(opportunity_import, rejections),
            rejections=rejections[:REPORT_ROWS_SHOWN],
            rejections_hidden=max(len(rejections) - REPORT_ROWS_SHOWN, 0),
            notes=imports.opportunity_import_notes(opportunity_import=opportunity_import),
            status_url=self._url("status", opportunity_import.pk),
            rejected_csv_url=self._url("rejected_csv", opportunity_import.pk),
        )

    def status_view(self, request, import_id: int):
        opportunity_import = self._viewable(request, import_id)
        return JsonResponse(
            imports.opportunity_import_progress(opportunity_import=opportunity_import)
        )

    def rejected_csv_view(self, request, import_id: int):
        opportunity_import = self._viewable(request, import_id)
        return HttpResponse(
            # A byte order mark tells spreadsheets the file is UTF-8.
            imports.opportunity_import_rejected_csv(opportunity_import=opportunity_import).encode(
                "utf-8-sig"
            ),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_rejected_name(import_id)}"'},
        )

    def _viewable(self, request, import_id: int) -> OpportunityImport:
        opportunity_import = get_object_or_404(OpportunityImport, pk=import_id)
        if not self.has_view_permission(request, opportunity_import):
            raise PermissionDenied
        return opportunity_import

    def _report_columns(self, opportunity_import, rejections) -> list[str]:
        if not rejections:
            return []
        return imports.opportunity_import_preview(
            opportunity_import=opportunity_import, rows=0
        ).columns

    def _url(self, view: str, import_id: int) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}", args=[import_id]
        )

    def _render(self, request, template: str, title: str, **context):
        return TemplateResponse(
            request,
            f"admin/contacts/opportunityimport/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "has_view_permission": self.has_view_permission(request),
                "has_add_permission": self.has_add_permission(request),
                **context,
            },
        )


def _rejected_name(import_id: int) -> str:
    return f"opportunity-import-{import_id}-rejected.csv"
