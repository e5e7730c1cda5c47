"""Field and stage mappings: data an admin edits, with history, checked when saved."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from apps.core.admin import HistoryAdmin
from apps.crm.connections import connection_configured
from apps.crm.forms import FieldMappingForm, StageMappingForm
from apps.crm.models import FieldMapping, StageMapping, System
from apps.crm.selectors import crm_lifecycle_values_read, crm_pipelines_read
from apps.crm.services import lifecycle_mappings_suggest, stage_mappings_suggest


@admin.register(FieldMapping)
class FieldMappingAdmin(HistoryAdmin):
    form = FieldMappingForm
    list_display = ["crm_field", "cue_field", "system", "object_type", "crm_type", "direction"]
    list_filter = ["system", "object_type", "direction"]
    search_fields = ["crm_field", "cue_field"]
    readonly_fields = ["crm_type"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.unchecked:
            self.message_user(request, form.unchecked, messages.WARNING)


@admin.register(StageMapping)
class StageMappingAdmin(HistoryAdmin):
    form = StageMappingForm
    list_display = [
        "crm_stage",
        "crm_pipeline",
        "system",
        "kind",
        "pipeline_stage",
        "lifecycle_stage",
    ]
    list_filter = ["system", "kind"]
    list_select_related = ["pipeline_stage__pipeline", "lifecycle_stage"]
    search_fields = ["crm_stage", "crm_pipeline"]
    change_list_template = "admin/crm/stagemapping/change_list.html"

    def get_urls(self):
        suggest = self.admin_site.admin_view(self.suggest_view)
        return [path("suggest/", suggest, name="crm_stagemapping_suggest"), *super().get_urls()]

    def suggest_view(self, request):
        """ "Suggest stage mappings": each connected CRM's unmapped deal stages and lifecycle
        values mapped to the Cue stages they plainly mean; the rest listed for a person."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        systems = [s for s in System.values if connection_configured(s)]
        if not systems:
            self.message_user(
                request, "No CRM is connected: there are no stages to read.", messages.ERROR
            )
        for system in systems:
            self._suggest(request, system)
        return HttpResponseRedirect(reverse("admin:crm_stagemapping_changelist"))

    def _suggest(self, request, system: str) -> None:
        label = System(system).label
        read = crm_pipelines_read(system)
        if read.value is None:
            self.message_user(request, read.problem, messages.ERROR)
            return
        deals = stage_mappings_suggest(system=system, pipelines=read.value)
        self._suggested(request, label, deals, "deal stage")
        read = crm_lifecycle_values_read(system)
        if read.value is None:
            self.message_user(request, read.problem, messages.ERROR)
            return
        lifecycle = lifecycle_mappings_suggest(system=system, values=read.value)
        self._suggested(request, f"{label} lifecycle", lifecycle, "lifecycle stage")

    def _suggested(self, request, label: str, suggestions, what: str) -> None:
        mapped = [s for s in suggestions if s.stage is not None]
        unmapped = [s for s in suggestions if s.stage is None]
        if mapped:
            names = ", ".join(f"{s.crm_label} → {s.stage.label} ({s.why})" for s in mapped)
            self.message_user(request, f"{label}: mapped {names}.", messages.SUCCESS)
        if unmapped:
            names = ", ".join(
                s.crm_label if s.crm_label == s.crm_stage else f"{s.crm_label} ({s.crm_stage})"
                for s in unmapped
            )
            self.message_user(
                request, f"{label}: left unmapped, map them by hand: {names}.", messages.WARNING
            )
        if not suggestions:
            self.message_user(request, f"{label}: every {what} is already mapped.")
