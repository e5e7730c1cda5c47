"""Tracked links and their clicks, read-only; people's clicks and link-preview fetches are
counted apart, in the same query as the list."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin
from apps.sends.models import LinkClick, TrackedLink
from apps.sends.selectors import links_with_clicks


class LinkClickInline(admin.TabularInline):
    model = LinkClick
    fields = ["at", "is_bot", "ip_address", "user_agent"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TrackedLink)
class TrackedLinkAdmin(ReadOnlyAdmin):
    list_display = [
        "token", "message_link", "key", "destination", "is_key_link", "human_clicks",
        "bot_clicks", "created_at",
    ]  # fmt: skip
    list_filter = ["is_key_link"]
    search_fields = ["=token", "=message__id", "key"]
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    fields = [
        "token", "message_link", "key", "destination", "is_key_link", "human_clicks",
        "bot_clicks", "created_at",
    ]  # fmt: skip
    readonly_fields = ["message_link", "human_clicks", "bot_clicks"]
    inlines = [LinkClickInline]

    def get_queryset(self, request):
        return links_with_clicks(super().get_queryset(request))

    @admin.display(description="Message", ordering="message_id")
    def message_link(self, link: TrackedLink) -> str:
        url = reverse("admin:sends_outboundmessage_change", args=[link.message_id])
        return format_html('<a href="{}">#{}</a>', url, link.message_id)

    @admin.display(description="People", ordering="human_clicks")
    def human_clicks(self, link: TrackedLink) -> int:
        return link.human_clicks

    @admin.display(description="Previews and bots", ordering="bot_clicks")
    def bot_clicks(self, link: TrackedLink) -> int:
        return link.bot_clicks


@admin.register(LinkClick)
class LinkClickAdmin(ReadOnlyAdmin):
    list_display = ["at", "link", "message_link", "is_bot", "ip_address", "short_user_agent"]
    list_filter = ["is_bot"]
    list_select_related = ["link"]
    search_fields = ["=link__token", "=ip_address"]
    show_full_result_count = False

    @admin.display(description="Message")
    def message_link(self, click: LinkClick) -> str:
        url = reverse("admin:sends_outboundmessage_change", args=[click.link.message_id])
        return format_html('<a href="{}">#{}</a>', url, click.link.message_id)

    @admin.display(description="User agent")
    def short_user_agent(self, click: LinkClick) -> str:
        agent = click.user_agent
        return agent if len(agent) <= 80 else f"{agent[:80]}…"
