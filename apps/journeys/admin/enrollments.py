"""Enrollments and their activity log: read-only records of what the engine did and why.
`/admin/journeys/enrollment/?contact__id__exact=<id>` lists one contact's journeys."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.contacts.models import Contact
from apps.core.admin import ReadOnlyAdmin
from apps.journeys.models import Activity, Enrollment


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    change_form_template = "admin/journeys/enrollment/change_form.html"
    list_display = [
        "id", "contact", "journey", "state", "step", "entered_at", "next_run_at", "is_holdout",
    ]  # fmt: skip
    list_display_links = ["id", "contact"]
    list_filter = ["state", "journey", "is_holdout"]
    list_select_related = ["contact", "journey", "current_step"]
    search_fields = ["=contact__id", "contact__email"]
    search_help_text = "A contact id or an exact email."
    show_full_result_count = False
    fields = [
        "contact_link", "journey", "state", "current_step", "step_entered_at", "next_run_at",
        "visits", "variants", "is_holdout", "triggering_event", "entered_at", "finished_at",
    ]  # fmt: skip
    readonly_fields = ["contact_link"]

    @admin.display(description="Current step", ordering="current_step__key")
    def step(self, enrollment: Enrollment) -> str:
        return enrollment.current_step.key if enrollment.current_step else "—"

    @admin.display(description="Contact")
    def contact_link(self, enrollment: Enrollment) -> str:
        url = reverse("admin:contacts_contact_change", args=[enrollment.contact_id])
        return format_html('<a href="{}">{}</a>', url, enrollment.contact)

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        contact_id = request.GET.get("contact__id__exact", "")
        contact = Contact.objects.filter(pk=contact_id).first() if contact_id.isdigit() else None
        if contact is not None:
            extra["title"] = f"Journeys of {contact}"
        return super().changelist_view(request, extra)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["activities"] = list(obj.activity.all())
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["at", "enrollment_link", "kind", "step_key", "reason"]
    list_filter = ["kind"]
    list_select_related = ["enrollment__journey", "enrollment__contact"]
    search_fields = ["=enrollment__id", "=enrollment__contact__id"]
    search_help_text = "An enrollment id or a contact id."
    show_full_result_count = False

    @admin.display(description="Enrollment")
    def enrollment_link(self, activity: Activity) -> str:
        url = reverse("admin:journeys_enrollment_change", args=[activity.enrollment_id])
        return format_html('<a href="{}">{}</a>', url, activity.enrollment)
