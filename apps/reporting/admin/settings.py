from django.contrib import admin

from apps.core.admin import HistoryAdmin
from apps.reporting.models import AttributionSettings, FatigueSettings


class SingletonAdmin(HistoryAdmin):
    """One row, edited in place, with its history."""

    def has_add_permission(self, request):
        return False  # the row exists: the list makes it (and every page asks, so no query)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        self.model.current()  # made by a migration; remade here should a flush remove it
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        obj._change_reason = f"Edited by {request.user.get_username()} in the admin"
        super().save_model(request, obj, form, change)


@admin.register(AttributionSettings)
class AttributionSettingsAdmin(SingletonAdmin):
    readonly_fields = ["updated_at"]
    fieldsets = [
        ("SMS touches that count", {"fields": [
            ("count_clicks", "click_window_hours"),
            ("count_replies", "reply_window_hours"),
            ("count_deliveries", "delivery_window_hours"),
        ]}),
        ("Email touches that count (opens never do)", {"fields": [
            ("count_email_clicks", "email_click_window_hours"),
            ("count_email_replies", "email_reply_window_hours"),
        ]}),
        ("Credit", {"fields": ["model"]}),
        ("What is attributed", {"fields": [
            "attribute_meetings", "attribute_opportunities", "attribute_progressions",
            "attribute_revenue",
        ]}),
        ("Holdout lift", {"fields": ["holdout_window_days", "updated_at"]}),
    ]  # fmt: skip


@admin.register(FatigueSettings)
class FatigueSettingsAdmin(SingletonAdmin):
    readonly_fields = ["updated_at"]
    fields = [
        "is_enabled", "window_hours", "min_messages", "opt_out_percent_limit",
        "failure_percent_limit", "updated_at",
    ]  # fmt: skip
