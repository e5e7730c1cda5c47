"""Outbound and inbound messages, read-only: the change page says in plain words why a
message was or wasn't sent, above its full decision and delivery timeline, and links to the
contact's conversation."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.contacts.models import Contact
from apps.core.admin import CappedCountPaginator, ReadOnlyAdmin, indexed_values_filter
from apps.sends.models import InboundMessage, OutboundMessage
from apps.sends.selectors import (
    conversation,
    inbound_search,
    message_explain,
    message_explain_title,
    message_timeline,
    messages_search,
)
from apps.sends.views.self_test import version_test_send_view
from apps.sends.views.verification import phone_verify_view

SEARCH_HELP = "An exact phone number (any common format) or email, a Twilio SID, or a contact id."


def conversation_url(*, contact_id: int | None, phone: str = "") -> str:
    if contact_id is not None:
        return reverse("admin:sends_outboundmessage_conversation", args=[contact_id])
    return reverse("admin:sends_outboundmessage_conversation_number", args=[phone])


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "created_at", "to_address", "contact", "channel", "category", "origin", "status",
        "reason_code", "journey_id", "template_version", "sent_at",
    ]  # fmt: skip
    list_display_links = ["id", "created_at"]
    list_filter = [
        "status",
        indexed_values_filter("reason_code", "reason"),
        "channel",
        "category",
        "origin",
        indexed_values_filter("journey_id", "journey id"),
    ]
    list_select_related = ["contact", "template_version__template"]
    search_fields = ["to_address"]  # the search itself is messages_search
    search_help_text = SEARCH_HELP
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["status", "contact", "recipient_user", "to_address", "channel",
                           "category", "origin"]}),
        ("Content", {"fields": ["template_version", "subject", "body_shown", "html",
                                "encoding", "segments"]}),
        ("Gate", {"fields": ["decision", "reason_code", "reason", "next_attempt_at"]}),
        ("Journey", {"fields": ["journey_id", "enrollment_id", "step_id", "send_key"]}),
        ("Provider", {"fields": ["sender", "provider_sid", "attempts", "needs_reconciliation",
                                 "error_code", "error_message", "price", "price_unit"]}),
        ("Times", {"fields": ["created_at", "queued_at", "claimed_at", "sent_at", "delivered_at",
                              "finished_at"]}),
    ]  # fmt: skip

    @admin.display(description="Body")
    def body_shown(self, message: OutboundMessage) -> str:
        return message.body_for_people

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return messages_search(queryset=queryset, term=search_term), False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            events = list(obj.log.all())
            context.update(
                why_title=message_explain_title(obj),
                explanation=message_explain(obj, events=events),
                timeline=message_timeline(obj, events=events),
                conversation_url=self._conversation_url(obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _conversation_url(self, message: OutboundMessage) -> str:
        if message.contact_id is None and message.channel != "sms":
            return ""
        return conversation_url(contact_id=message.contact_id, phone=message.to_address)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "conversation/<int:contact_id>/",
                wrap(self.conversation_view),
                name="sends_outboundmessage_conversation",
            ),
            path(
                "conversation/number/<str:phone>/",
                wrap(self.conversation_number_view),
                name="sends_outboundmessage_conversation_number",
            ),
            # Staff pages of the send pipeline about no one message: a staff member proves
            # their own phone, and texts themselves a test of a version they may read.
            path("verify-phone/", wrap(phone_verify_view), name="sends_verify_phone"),
            path(
                "test-send/<int:version_id>/",
                wrap(version_test_send_view),
                name="sends_test_send",
            ),
            *super().get_urls(),
        ]

    def conversation_view(self, request, contact_id: int):
        self._require_view(request)
        contact = get_object_or_404(Contact, pk=contact_id)
        return self._conversation_page(request, f"Conversation with {contact}", contact=contact)

    def conversation_number_view(self, request, phone: str):
        self._require_view(request)
        return self._conversation_page(request, f"Conversation with {phone}", phone=phone)

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _conversation_page(self, request, title: str, *, contact=None, phone: str = ""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "contact": contact,
            "phone": phone or (str(contact.phone) if contact and contact.phone else ""),
            "items": conversation(contact=contact, phone=phone),
        }
        return TemplateResponse(request, "admin/sends/outboundmessage/conversation.html", context)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at", "from_address", "contact", "short_body", "keyword_kind", "keyword",
        "classification_rule", "outcome",
    ]  # fmt: skip
    list_filter = ["keyword_kind", "classification_rule", "classification_language"]
    list_select_related = ["contact"]
    search_fields = ["from_address"]  # the search itself is inbound_search
    search_help_text = SEARCH_HELP
    show_full_result_count = False
    fields = [
        "received_at", "from_address", "to_address", "contact", "body", "keyword_kind",
        "keyword", "classification_rule", "classification_language", "classification_detail",
        "outcome", "provider_sid", "conversation_link",
    ]  # fmt: skip
    readonly_fields = ["conversation_link"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return inbound_search(queryset=queryset, term=search_term), False

    @admin.display(description="Text")
    def short_body(self, message: InboundMessage) -> str:
        return message.body if len(message.body) <= 60 else f"{message.body[:60]}…"

    @admin.display(description="Conversation")
    def conversation_link(self, message: InboundMessage) -> str:
        url = conversation_url(contact_id=message.contact_id, phone=message.from_address)
        return format_html('<a href="{}">Open the conversation</a>', url)
