"""One page per CRM connection, at /admin/crm/connection/<system>/: configured or not (by
the environment, naming what is missing, never showing a value), the last syncs, each
object type's cursor, the last runs with their counts, unmatched owners and the open
failed records. Staff read it; an admin syncs now, retries and runs the dry run."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.crm.adapters import CrmError
from apps.crm.connections import adapter_for, connection_configured, connection_missing
from apps.crm.dry_run import RECORDS, mapping_dry_run
from apps.crm.field_suggestions import field_suggestions
from apps.crm.forms import MAPPED_OBJECT_TYPES, DryRunForm, FieldMappingForm
from apps.crm.models import Connection, Direction, ObjectType, RecordError, System
from apps.crm.selectors import connection_page, crm_fields_read
from apps.crm.services import crm_sync_enqueue, record_error_try, record_errors_retry
from apps.crm.sync.tally import KINDS

MANAGE = "crm.change_connection"  # sync now and retry: an admin's
MAP = "crm.change_fieldmapping"  # the dry run tries the mappings: whoever edits them
MAP_ADD = "crm.add_fieldmapping"  # "use this mapping" adds one


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """The connection rows are Cue's own (the sync's lease and times): read here through
    the page, never edited, added or deleted."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<slug:system>/sync/", wrap(self.sync_view), name="crm_connection_sync"),
            path("<slug:system>/retry/", wrap(self.retry_view), name="crm_connection_retry"),
            path("<slug:system>/dry-run/", wrap(self.dry_run_view), name="crm_connection_dry_run"),
            path(
                "<slug:system>/field-suggestions/",
                wrap(self.field_suggestions_view),
                name="crm_connection_field_suggestions",
            ),
            *super().get_urls(),
        ]

    def get_object(self, request, object_id, from_field=None):
        # A connection is addressed by its system ("hubspot"), not a number.
        return self.get_queryset(request).filter(system=object_id).first()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        pages = [connection_page(system) for system in System.values]
        context = {**self._context(request, "CRM connections"), "pages": pages}
        return TemplateResponse(request, "admin/crm/connection/change_list.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        system = _system(unquote(object_id))
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "GET":
            raise PermissionDenied  # nothing on this page is edited in place
        page = connection_page(system)
        context = {
            **self._context(request, f"{page.label} connection"),
            "page": page,
            "kinds": KINDS,
            "may_manage": request.user.has_perm(MANAGE),
            "may_map": request.user.has_perm(MAP),
            "in_direction": Direction.IN,
        }
        return TemplateResponse(request, "admin/crm/connection/page.html", context)

    def sync_view(self, request, system):
        """ "Sync now": a sync of this CRM on a worker, queued after this request commits."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        system = self._manage(request, system)
        if not connection_configured(system):
            missing = ", ".join(connection_missing(system))
            self.message_user(request, f"Not connected: set {missing}.", messages.ERROR)
        else:
            crm_sync_enqueue(system=system)
            self.message_user(
                request,
                f"A {System(system).label} sync is queued; this page shows it once it runs.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(_page_url(system))

    def retry_view(self, request, system):
        """Retries one failed record (`record_error`) or every open one (`all`)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        system = self._manage(request, system)
        if request.POST.get("all"):
            result = record_errors_retry(system=system)
            text = f"Retried: {result.taken} taken, {result.failed} failed again."
            if result.left:
                text += f" {result.left} not reached yet: retry again."
            self.message_user(
                request, text, messages.WARNING if result.failed else messages.SUCCESS
            )
        else:
            self._retry_one(request, system, request.POST.get("record_error", ""))
        return HttpResponseRedirect(_page_url(system))

    def _retry_one(self, request, system: str, error_id: str) -> None:
        if not error_id.isdigit():
            self.message_user(request, "Choose a failed record to retry.", messages.ERROR)
            return
        error = get_object_or_404(RecordError, pk=int(error_id), system=system)
        name = f"{System(system).label} {error.object_type} {error.record_id}"
        if record_error_try(error=error):
            self.message_user(request, f"{name} was taken.", messages.SUCCESS)
        else:
            error.refresh_from_db()
            self.message_user(request, f"{name} failed again: {error.error}", messages.ERROR)

    def dry_run_view(self, request, system):
        """What the mappings would do to the CRM's first 20 records; nothing is kept."""
        system = _system(system)
        if not request.user.has_perm(MAP):
            raise PermissionDenied
        form = DryRunForm(request.POST or None, system=system)
        lines = None
        if request.method == "POST" and form.is_valid():
            lines = self._dry_run(form, system)
        context = {
            **self._context(request, f"{System(system).label} dry run"),
            "system": system,
            "label": System(system).label,
            "form": form,
            "lines": lines,
            "records": RECORDS,
        }
        return TemplateResponse(request, "admin/crm/connection/dry_run.html", context)

    def _dry_run(self, form: DryRunForm, system: str):
        try:
            return mapping_dry_run(
                adapter=adapter_for(system), object_type=form.cleaned_data["object_type"]
            )
        except CrmError as error:
            form.add_error(None, str(error))
            return None

    def field_suggestions_view(self, request, system):
        """The CRM's unmapped fields with the Cue field each plainly fills (GET); "use this
        mapping" (POST) saves one through the field mapping form's own checks."""
        system = _system(system)
        if not request.user.has_perm(MAP):
            raise PermissionDenied
        if request.method == "POST":
            return self._suggestion_use(request, system)
        sections = []
        for object_type in MAPPED_OBJECT_TYPES[system]:
            read = crm_fields_read(system, object_type)
            suggestions = field_suggestions(system, object_type, read.value or [])
            label = ObjectType(object_type).label
            sections.append((object_type, label, suggestions, read.problem))
        context = {
            **self._context(request, f"{System(system).label} field mapping suggestions"),
            "system": system,
            "label": System(system).label,
            "sections": sections,
            "may_add": request.user.has_perm(MAP_ADD),
        }
        return TemplateResponse(request, "admin/crm/connection/field_suggestions.html", context)

    def _suggestion_use(self, request, system: str):
        if not request.user.has_perm(MAP_ADD):
            raise PermissionDenied
        data = {name: request.POST.get(name, "") for name in ("object_type", "crm_field")}
        data.update(system=system, cue_field=request.POST.get("cue_field", ""), direction="in")
        form = FieldMappingForm(data)
        if form.is_valid():
            saved = form.save()
            text = f"Mapped {System(system).label} {saved.object_type} {saved.crm_field} → "
            self.message_user(request, f"{text}{saved.cue_field}.", messages.SUCCESS)
            if form.unchecked:
                self.message_user(request, form.unchecked, messages.WARNING)
        else:
            reasons = "; ".join(str(e) for errors in form.errors.values() for e in errors)
            what = f"{data['crm_field'][:100]} → {data['cue_field'][:100]}"
            self.message_user(request, f"Not mapped: {what}: {reasons}", messages.ERROR)
        return HttpResponseRedirect(
            reverse("admin:crm_connection_field_suggestions", args=[system])
        )

    def _manage(self, request, system: str) -> str:
        """The system of a button only an admin may press."""
        system = _system(system)
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        return system

    def _context(self, request, title: str) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}


def _system(system: str) -> str:
    if system not in System.values:
        raise Http404(f"Cue has no CRM connection {system!r}.")
    return system


def _page_url(system: str) -> str:
    return reverse("admin:crm_connection_change", args=[system])
