from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from apps.core.admin import HistoryAdmin
from apps.routing.forms import (
    RULE_ACTION_FIELDS,
    RULE_CONDITION_FIELDS,
    DryRunForm,
    RoutingRuleForm,
)
from apps.routing.models import IntentPhrase, RoutingRule
from apps.routing.services import rule_dry_run


@admin.register(RoutingRule)
class RoutingRuleAdmin(HistoryAdmin):
    form = RoutingRuleForm
    list_display = [
        "name", "position", "is_active", "signal_types", "intents", "team", "strategy",
        "sla_minutes", "sla_clock", "priority",
    ]  # fmt: skip
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "team", "strategy", "sla_clock"]
    list_select_related = ["team"]
    search_fields = ["name"]
    change_list_template = "admin/routing/routingrule/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active"]}),
        ("When", {"fields": RULE_CONDITION_FIELDS}),
        ("Then", {"fields": RULE_ACTION_FIELDS}),
    ]

    def get_urls(self):
        dry_run = self.admin_site.admin_view(self.dry_run_view)
        return [
            path("dry-run/", dry_run, name="routing_routingrule_dry_run"),
            *super().get_urls(),
        ]

    def dry_run_view(self, request):
        """Which rule and owner a signal would get, right now or at a chosen moment."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DryRunForm(request.GET or None)
        result = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            result = rule_dry_run(
                contact=data["contact"],
                signal_type=data["signal_type"],
                text=data["text"],
                journey_id=data["journey_id"],
                at=data["at"] or timezone.now(),
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Routing dry run",
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/routing/routingrule/dry_run.html", context)


@admin.register(IntentPhrase)
class IntentPhraseAdmin(HistoryAdmin):
    list_display = ["phrase", "intent", "weight", "is_active"]
    list_filter = ["intent", "is_active"]
    search_fields = ["phrase"]
