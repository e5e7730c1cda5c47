from django.contrib import admin

from apps.core.admin import HistoryAdmin, ReadOnlyAdmin
from apps.routing.forms import WebhookEndpointForm
from apps.routing.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(HistoryAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]

    def get_fields(self, request, obj=None):
        # The secret signs what Cue sends the CRM: whoever reads it can forge our webhooks.
        # Those who may only view the endpoint (Compliance) never see it, as history never does.
        fields = super().get_fields(request, obj)
        if self.has_change_permission(request, obj):
            return fields
        return [name for name in fields if name != "secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: what was sent where, how often, and what came back."""

    list_display = [
        "created_at", "endpoint", "event", "key", "status", "attempts", "response_code",
        "next_attempt_at", "delivered_at",
    ]  # fmt: skip
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["key", "last_error"]
    show_full_result_count = False
    readonly_fields = [
        "endpoint", "event", "key", "payload", "status", "attempts", "next_attempt_at",
        "response_code", "last_error", "created_at", "delivered_at",
    ]  # fmt: skip
