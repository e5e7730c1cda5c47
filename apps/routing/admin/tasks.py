from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from apps.core.admin import HistoryAdmin, ReadOnlyAdmin
from apps.routing.models import (
    OPEN_STATUSES,
    FollowUpTask,
    TaskEscalation,
    TaskNotification,
    TaskSignal,
)


class SlaStateFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("on_track", "On track"),
            ("warned", "Warned"),
            ("overdue", "Overdue, not yet swept"),
            ("breached", "Breached"),
            ("met", "Met (touched in time)"),
        ]

    def queryset(self, request, queryset):
        running = Q(status="open", first_touch_at=None, breached_at=None)
        now = timezone.now()
        return {
            "on_track": lambda: queryset.filter(running, warned_at=None, due_at__gt=now),
            "warned": lambda: queryset.filter(running, due_at__gt=now).exclude(warned_at=None),
            "overdue": lambda: queryset.filter(running, due_at__lte=now),
            "breached": lambda: queryset.exclude(breached_at=None),
            "met": lambda: queryset.filter(breached_at=None).exclude(first_touch_at=None),
        }.get(self.value(), lambda: queryset)()


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TaskSignalInline(_ReadOnlyInline):
    model = TaskSignal
    fields = ["received_at", "signal_type", "intent", "confidence", "reason", "rule", "key"]
    readonly_fields = fields


class TaskEscalationInline(_ReadOnlyInline):
    model = TaskEscalation
    fields = ["at", "kind", "owner"]
    readonly_fields = fields


class TaskNotificationInline(_ReadOnlyInline):
    model = TaskNotification
    fields = ["created_at", "kind", "recipient", "by_email", "by_sms", "sent_at", "sms_message_id"]
    readonly_fields = fields


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdmin, HistoryAdmin):
    """Read-only: reps and managers work tasks on /tasks/, where every change is a service
    call with its actor; the history tab shows who did what."""

    list_display = [
        "id", "reason", "contact", "owner", "team", "status", "priority", "sla",
        "due_at", "created_at",
    ]  # fmt: skip
    list_filter = [
        "status", SlaStateFilter, "priority", "signal_type", "team",
        ("owner", admin.RelatedOnlyFieldListFilter),
    ]  # fmt: skip
    list_select_related = ["contact", "owner", "team"]
    search_fields = ["reason", "contact__email", "contact__phone", "contact__external_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [TaskSignalInline, TaskEscalationInline, TaskNotificationInline]

    @admin.display(description="SLA")
    def sla(self, task: FollowUpTask) -> str:
        running = task.status in OPEN_STATUSES and task.sla_state == "on_track"
        if running and task.due_at <= timezone.now():
            return "Overdue"
        return {
            "breached": "Breached",
            "met": "Met",
            "closed": "—",
            "warned": "Warned",
            "on_track": "On track",
        }[task.sla_state]
