from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin
from apps.library.models import TemplateApproval, TemplateVersion


@admin.register(TemplateVersion)
class TemplateVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__", "template_link", "number", "status", "author", "submitted_at", "decided_at",
        "worst_case_segments",
    ]  # fmt: skip
    list_filter = ["status", "template__channel", "template__category"]
    list_select_related = ["template", "author"]
    search_fields = ["template__name", "body"]
    show_full_result_count = False
    fields = [
        "template", "number", "status", "author", "body", "subject", "links", "defaults",
        "lint_findings", "worst_case_encoding", "worst_case_segments", "worst_case_characters",
        "created_at", "submitted_at", "decided_at",
    ]  # fmt: skip

    @admin.display(description="Template page", ordering="template__name")
    def template_link(self, version: TemplateVersion) -> str:
        url = reverse("admin:library_messagetemplate_change", args=[version.template_id])
        return format_html('<a href="{}">{}</a>', url, version.template.name)


@admin.register(TemplateApproval)
class TemplateApprovalAdmin(ReadOnlyAdmin):
    list_display = ["version", "decision", "as_role", "reviewer", "at", "comment"]
    list_filter = ["decision", "as_role"]
    list_select_related = ["version__template", "reviewer"]
    search_fields = ["version__template__name", "reviewer__username", "comment"]
    date_hierarchy = "at"
    show_full_result_count = False
