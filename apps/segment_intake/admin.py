"""Write keys are made and revoked here by an admin; rejected messages are read here."""

from django.contrib import admin, messages

from apps.core.admin import CappedCountPaginator
from apps.segment_intake.keys import write_key_create, write_key_revoke
from apps.segment_intake.models import SegmentRejection, SegmentWriteKey


@admin.register(SegmentWriteKey)
class SegmentWriteKeyAdmin(admin.ModelAdmin):
    """Adding a key shows it once; after that only its first characters are known."""

    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_delete_permission(self, request, obj=None):
        return False  # a key is revoked, and its rejections stay with it

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "name"] if obj and obj.revoked_at else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        row, key = write_key_create(name=obj.name)
        obj.pk, obj.prefix, obj.created_at = row.pk, row.prefix, row.created_at
        messages.warning(
            request,
            f"The write key for {row.name!r} is {key} — copy it now: it is not shown again.",
        )

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(write_key_revoke(write_key=key) for key in queryset)
        self.message_user(request, f"Revoked {revoked} key(s).")


@admin.register(SegmentRejection)
class SegmentRejectionAdmin(admin.ModelAdmin):
    """Messages a source sent that were not stored, with why: read, never edited."""

    list_display = ["received_at", "type", "message_id", "reason", "write_key"]
    list_filter = ["type", "write_key"]
    list_select_related = ["write_key"]
    search_fields = ["=message_id"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
