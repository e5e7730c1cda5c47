from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import Team, User, WorkingHours
from apps.accounts.services import user_phone_set
from apps.core.admin import HistoryAdmin


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin, HistoryAdmin):
    list_display = ["username", "display_name", "email", "role_names", "team", "is_active"]
    list_filter = ["groups", "team", "is_active", "is_staff"]
    list_select_related = ["team"]
    inlines = [WorkingHoursInline]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Routing",
            {
                "fields": (
                    "team",
                    "phone",
                    "phone_verified_at",
                    "sms_alerts",
                    "time_zone",
                    "open_task_capacity",
                )
            },
        ),
    )
    # Only the user can verify their phone, by a code texted to it.
    readonly_fields = ["phone_verified_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def save_model(self, request, obj, form, change):
        if change and "phone" in form.changed_data:
            user_phone_set(user=obj, phone=obj.phone)  # a new number is not verified
        super().save_model(request, obj, form, change)

    @admin.display(description="Roles")
    def role_names(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all())


@admin.register(Team)
class TeamAdmin(HistoryAdmin):
    list_display = ["name", "manager"]
    list_select_related = ["manager"]
    search_fields = ["name"]
