from django import forms
from django.contrib import admin

from apps.core.admin import HistoryAdmin, ReadOnlyAdmin
from apps.inbox.models import Conversation, InboxPolicy, SavedReply
from apps.inbox.services import saved_reply_errors


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["title", "body"]
        help_texts = {
            "body": 'Placeholders as in templates, e.g. {{ contact.first_name | "there" }}.'
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        errors = saved_reply_errors(body=body)
        if errors:
            raise forms.ValidationError(errors)
        return body


@admin.register(SavedReply)
class SavedReplyAdmin(HistoryAdmin):
    form = SavedReplyForm
    list_display = ["title", "body", "updated_at"]
    search_fields = ["title", "body"]


@admin.register(InboxPolicy)
class InboxPolicyAdmin(HistoryAdmin):
    list_display = ["team", "first_response_minutes"]
    list_select_related = ["team"]


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "assigned_user", "assigned_team", "last_message_at"]
    list_filter = ["status", "assigned_team"]
    list_select_related = ["contact", "assigned_user", "assigned_team"]
    show_full_result_count = False
    fields = [
        "their_address",
        "our_address",
        "contact",
        "status",
        "assigned_user",
        "assigned_team",
        "last_message_at",
        "last_message_text",
        "waiting_since",
        "response_due_at",
    ]
