"""The event hand-off's failures: which handler failed on which event, and whether Cue gave
up on it. Read by staff (Compliance checks that nothing was silently dropped); an admin who
fixed the cause may have the failures retried at once."""

from django.contrib import admin
from django.utils.text import Truncator

from apps.contacts.events import handler_failures_retry_now
from apps.contacts.models import EventHandlerFailure


class GivenUpFilter(admin.SimpleListFilter):
    title = "given up"
    parameter_name = "given_up"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No, still retried")]

    def queryset(self, request, queryset):
        last = EventHandlerFailure.MAX_ATTEMPTS
        if self.value() == "yes":
            return queryset.filter(attempts__gte=last)
        if self.value() == "no":
            return queryset.filter(attempts__lt=last)
        return queryset


@admin.register(EventHandlerFailure)
class EventHandlerFailureAdmin(admin.ModelAdmin):
    """Written by the hand-off alone: read here, never edited."""

    list_display = [
        "failed_at",
        "event_type",
        "event_contact",
        "handler",
        "attempts",
        "error",
        "given_up",
    ]
    list_filter = ["handler", GivenUpFilter]
    list_select_related = ["event__contact"]
    show_full_result_count = False
    actions = ["retry_now"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, failure: EventHandlerFailure) -> str:
        return failure.event.type

    @admin.display(description="contact")
    def event_contact(self, failure: EventHandlerFailure):
        return failure.event.contact

    @admin.display(description="last error")
    def error(self, failure: EventHandlerFailure) -> str:
        return Truncator(failure.last_error).chars(120)

    @admin.display(description="given up", boolean=True)
    def given_up(self, failure: EventHandlerFailure) -> bool:
        return failure.given_up

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = handler_failures_retry_now(failure_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failure(s) will be retried at the next sweep.")

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("contacts.change_eventhandlerfailure")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
