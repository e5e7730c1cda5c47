from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.core.admin import HistoryAdmin
from apps.library.admin.forms import MessageTemplateForm
from apps.library.admin.page import template_page_context
from apps.library.admin.workflow import WorkflowViews
from apps.library.errors import LibraryError
from apps.library.models import MessageTemplate, VersionStatus
from apps.library.selectors import (
    may_review_templates,
    templates_with_review_state,
    versions_awaiting_review,
    working_version,
)
from apps.library.services import template_content_edit, template_create, template_update

TEXT_FIELDS = ["body", "html", "subject", "links", "defaults"]
EMAIL_ONLY = ("subject", "html")


class ReviewStateFilter(admin.SimpleListFilter):
    title = "review state"
    parameter_name = "state"
    FOR_ME = "for_me"  # the dashboard links here: what waits for the signed-in reviewer
    QUERIES = {
        "waiting": ("Waiting for review", {"versions__status": VersionStatus.SUBMITTED}),
        "draft": ("Has a draft", {"versions__status": VersionStatus.DRAFT}),
        "live": ("Has an approved version", {"current_version__isnull": False}),
        "not_live": ("Nothing approved yet", {"current_version__isnull": True}),
    }

    def lookups(self, request, model_admin):
        lookups = [(value, label) for value, (label, _) in self.QUERIES.items()]
        if may_review_templates(request.user):
            lookups.insert(0, (self.FOR_ME, "Waiting for my review"))
        return lookups

    def queryset(self, request, queryset):
        # At most one version per template is open, so the join never repeats a template.
        if self.value() == self.FOR_ME:
            return queryset.filter(versions__in=versions_awaiting_review(user=request.user))
        if self.value() not in self.QUERIES:
            return queryset
        return queryset.filter(**self.QUERIES[self.value()][1])


@admin.register(MessageTemplate)
class MessageTemplateAdmin(WorkflowViews, HistoryAdmin):
    """Templates and the text of their working version; workflow buttons call services."""

    form = MessageTemplateForm
    change_form_template = "admin/library/messagetemplate/change_form.html"
    list_display = [
        "name", "channel", "purpose", "category", "state", "segments", "last_approver",
        "updated_at",
    ]  # fmt: skip
    list_filter = [ReviewStateFilter, "channel", "purpose", "category"]
    search_fields = ["name", "tags"]
    raw_id_fields = ["owner"]
    show_full_result_count = False

    def get_queryset(self, request):
        return templates_with_review_state(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        # Lint and consent depend on channel and category: they are fixed at creation.
        return ["channel", "category"] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "channel", "purpose", "category", "owner", "tags"]})
        ]
        if self._text_editable(request, obj):
            fields = [
                f for f in TEXT_FIELDS if not (obj and obj.channel == "sms" and f in EMAIL_ONLY)
            ]
            fieldsets.append(("Text", {"fields": fields, "classes": ["cue-template-text"]}))
        return fieldsets

    def _text_editable(self, request, obj) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        if not request.user.has_perm("library.change_templateversion"):
            return False
        working = working_version(obj)
        return working is not None and working.status in (
            VersionStatus.DRAFT,
            VersionStatus.APPROVED,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Text fields are declared on the form, not the model: keep them out of the
        # automatic field list and let the fieldsets decide.
        kwargs["fields"] = ["name", "channel", "purpose", "category", "owner", "tags"]
        if obj is not None:
            kwargs["fields"] = ["name", "purpose", "owner", "tags"]
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"text_editable": self._text_editable(request, obj)})

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("name", "purpose", "owner", "tags")}
        if not change:
            created = template_create(
                actor=request.user, channel=form.cleaned_data["channel"],
                category=form.cleaned_data["category"], **fields, **form.content(),
            )  # fmt: skip
            obj.pk = created.pk
            return
        with transaction.atomic():
            template_update(actor=request.user, template=obj, fields=fields)
            if set(TEXT_FIELDS) & set(form.changed_data):
                self._content_save(request, obj, form)

    def _content_save(self, request, obj, form) -> None:
        draft = template_content_edit(actor=request.user, template=obj, **form.content())
        if draft is not None and form.working.status == VersionStatus.APPROVED:
            messages.info(
                request,
                f"Your edit is saved as draft v{draft.number}; the approved version is sent "
                "until this draft is approved.",
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        template = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if template is not None:
            extra.update(template_page_context(request, self, template))
        try:
            return super().change_view(request, object_id, form_url, extra)
        except LibraryError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return self._redirect_to_change(template)

    def add_view(self, request, form_url="", extra_context=None):
        extra = {
            **(extra_context or {}),
            "editor": {"preview_url": reverse("api:template-preview")},
        }
        return super().add_view(request, form_url, extra)

    def get_urls(self):
        return self.workflow_urls() + super().get_urls()

    @admin.display(description="Versions")
    def state(self, template: MessageTemplate) -> str:
        parts = []
        if template.current_version is not None:
            parts.append(f"v{template.current_version.number} approved")
        if template.open_number is not None:
            parts.append(f"v{template.open_number} {template.open_status}")
        return " · ".join(parts) or "—"

    @admin.display(description="Segments (worst case)")
    def segments(self, template: MessageTemplate):
        if template.channel != "sms":
            return "—"
        current = template.current_version
        if template.open_segments is not None:
            return template.open_segments
        return current.worst_case_segments if current is not None else "—"

    @admin.display(description="Last approved by", ordering="last_approver")
    def last_approver(self, template: MessageTemplate) -> str:
        return template.last_approver or "—"

    def _redirect_to_change(self, template):
        url = reverse("admin:library_messagetemplate_change", args=[template.pk])
        return HttpResponseRedirect(url)
