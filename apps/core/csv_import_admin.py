"""The admin of a CSV import, whatever it imports: the add page uploads a file, then a
mapping page, a progress page that polls a JSON status, and the report with its rejected
rows as CSV.

Each import (contacts, opportunities) subclasses CsvImportAdmin and names its services in
the `import_*` hooks; the views only wire forms to them. Pages render the model's own
template when it has one (admin/<app>/<model>/<page>.html, e.g. for its mapping help) and
else the shared one in admin/csv_import/.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.core.errors import CueError
from apps.core.queue import QUEUE_DOWN

REPORT_ROWS_SHOWN = 500


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"Up to {max_bytes // 2**20} MB, with a header row naming the columns. Comma,"
            " semicolon or tab separated; UTF-8 or Windows-1252."
        )


class CsvMappingForm(forms.Form):
    """One dropdown per column of the file, pre-filled from the column's name."""

    def __init__(self, *args, columns: list[str], choices, suggested: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column, choices=choices, initial=suggested[column]
            )

    def mapping(self) -> dict[str, str]:
        return {column: self.cleaned_data[f"column_{i}"] for i, column in enumerate(self.columns)}


class CsvImportAdmin(admin.ModelAdmin):
    """Subclasses set `noun` (what a row becomes, plural: "contacts") and implement the
    `import_*` hooks with their app's services; `import_error` is what those raise for a
    refusal the page shows."""

    noun = "rows"
    file_prefix = "import"  # the rejected rows download as <prefix>-<id>-rejected.csv
    max_upload_bytes = 0
    import_error: type[Exception] = CueError

    list_display = [
        "original_name", "status", "total_rows", "processed_rows", "imported_count",
        "updated_count", "rejected_count", "created_by", "created_at",
    ]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["created_by"]
    search_fields = ["original_name"]
    show_full_result_count = False

    # The services of one import, as its subclass names them.
    def import_create(self, *, upload, user):
        """The new import of an uploaded file."""
        raise NotImplementedError

    def import_preview(self, record, *, rows: int = 3):
        """Its columns, and `rows` first rows."""
        raise NotImplementedError

    def import_mapping_choices(self) -> list:
        """What a column can be imported as."""
        raise NotImplementedError

    def import_mapping_suggest(self, columns: list[str]) -> dict:
        """{column: its likely target}."""
        raise NotImplementedError

    def import_start(self, record, *, mapping: dict) -> None:
        """Queues the run with this mapping."""
        raise NotImplementedError

    def import_rejections(self, record) -> list:
        """The rejected rows, with their reasons."""
        raise NotImplementedError

    def import_progress(self, record) -> dict:
        """What the progress page polls."""
        raise NotImplementedError

    def import_notes(self, record) -> list:
        """Notes on rows imported with a caveat."""
        raise NotImplementedError

    def import_rejected_csv(self, record) -> str:
        """The rejected rows as CSV."""
        raise NotImplementedError

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
        form = CsvUploadForm(
            request.POST or None, request.FILES or None, max_bytes=self.max_upload_bytes
        )
        if request.method == "POST" and form.is_valid():
            try:
                record = self.import_create(upload=form.cleaned_data["file"], user=request.user)
            except self.import_error as error:
                form.add_error("file", error.message)
            else:
                return redirect(self._url("mapping", record.pk))
        return self._render(request, "upload.html", f"Import {self.noun} from CSV", form=form)

    def mapping_view(self, request, import_id: int):
        record = get_object_or_404(self.model, pk=import_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if record.status != self.model.Status.UPLOADED:
            return redirect(self._url("change", record.pk))
        preview = self.import_preview(record)
        form = CsvMappingForm(
            request.POST or None,
            columns=preview.columns,
            choices=self.import_mapping_choices(),  # custom attributes are data: read once
            suggested=self.import_mapping_suggest(preview.columns),
        )
        if request.method == "POST" and form.is_valid():
            response = self._started(request, record, form)
            if response is not None:
                return response
        samples = [
            [cells[i] if i < len(cells) else "" for _, cells in preview.rows]
            for i in range(len(preview.columns))
        ]
        return self._render(
            request,
            "mapping.html",
            f"Map the columns of {record}",
            original=record,
            form=form,
            columns=list(zip(form, samples, strict=True)),
        )

    def _started(self, request, record, form: CsvMappingForm):
        """Where to go once the import is queued; None (with the form's error) if refused."""
        try:
            self.import_start(record, mapping=form.mapping())
        except self.import_error as error:
            form.add_error(None, error.message)
            return None
        record.refresh_from_db(fields=["status"])
        if record.status == self.model.Status.UPLOADED:
            # Not queued after all (the broker was unreachable): start it again.
            messages.error(request, QUEUE_DOWN)
            return redirect(self._url("mapping", record.pk))
        messages.success(request, f"The import of “{record}” is queued.")
        return redirect(self._url("change", record.pk))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, unquote(object_id))
        if record is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, record):
            raise PermissionDenied
        if record.status == self.model.Status.UPLOADED and self.has_add_permission(request):
            return redirect(self._url("mapping", record.pk))
        rejections = self.import_rejections(record)
        return self._render(
            request,
            "report.html",
            f"Import of {record}",
            original=record,
            progress=self.import_progress(record),
            columns=self.import_preview(record, rows=0).columns if rejections else [],
            rejections=rejections[:REPORT_ROWS_SHOWN],
            rejections_hidden=max(len(rejections) - REPORT_ROWS_SHOWN, 0),
            notes=self.import_notes(record),
            status_url=self._url("status", record.pk),
            rejected_csv_url=self._url("rejected_csv", record.pk),
        )

    def status_view(self, request, import_id: int):
        return JsonResponse(self.import_progress(self._viewable(request, import_id)))

    def rejected_csv_view(self, request, import_id: int):
        record = self._viewable(request, import_id)
        name = f"{self.file_prefix}-{import_id}-rejected.csv"
        return HttpResponse(
            # A byte order mark tells spreadsheets the file is UTF-8.
            self.import_rejected_csv(record).encode("utf-8-sig"),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def _viewable(self, request, import_id: int):
        record = get_object_or_404(self.model, pk=import_id)
        if not self.has_view_permission(request, record):
            raise PermissionDenied
        return record

    def _url(self, view: str, import_id: int) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}", args=[import_id]
        )

    def _render(self, request, page: str, title: str, **context):
        return TemplateResponse(
            request,
            [
                f"admin/{self.opts.app_label}/{self.opts.model_name}/{page}",
                f"admin/csv_import/{page}",
            ],
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "import_noun": self.noun,
                "has_view_permission": self.has_view_permission(request),
                "has_add_permission": self.has_add_permission(request),
                **context,
            },
        )
