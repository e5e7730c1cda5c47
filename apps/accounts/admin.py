from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from apps.accounts.models import Brand, Program, Team, User, WorkingHours
from apps.accounts.services import brand_save, user_phone_set
from apps.accounts.tokens import token_create
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


class TokenForm(forms.ModelForm):
    expires_at = forms.DateTimeField(
        required=False, help_text="Empty: never expires. Revoke a token by deleting it."
    )

    class Meta:
        model = TokenProxy
        fields = ["user"]


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class ExpiringTokenAdmin(TokenAdmin):
    """API tokens with their expiry and last use. Adding one for a user replaces theirs."""

    form = TokenForm
    fields = ["user", "expires_at"]
    list_display = ["key", "user", "created", "expires_at", "last_used_at"]
    list_select_related = ["user", "lifetime"]

    def get_fields(self, request, obj=None):
        return ["user"] if obj else ["user", "expires_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token = token_create(user=obj.user, expires_at=form.cleaned_data.get("expires_at"))
        obj.key, obj.created = token.key, token.created  # its pk is the user's

    @admin.display(description="Expires")
    def expires_at(self, token) -> str:
        lifetime = getattr(token, "lifetime", None)
        return lifetime.expires_at if lifetime and lifetime.expires_at else "never"

    @admin.display(description="Last used")
    def last_used_at(self, token):
        lifetime = getattr(token, "lifetime", None)
        return lifetime.last_used_at if lifetime else None


@admin.register(Brand)
class BrandAdmin(HistoryAdmin):
    """The one brand row: edited here, read per use, every change in its history."""

    list_display = ["name", "support_email", "support_phone"]
    fieldsets = (
        (None, {"fields": ("name", "help_reply", "support_email", "support_phone")}),
        (
            "Defaults for a new opt-in form",
            {
                "fields": (
                    "optin_program_name",
                    "optin_message_frequency",
                    "optin_privacy_url",
                    "optin_terms_url",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not Brand.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        saved = brand_save(changed_by=request.user, reason="Edited in the admin", **fields)
        obj.pk = saved.pk


@admin.register(Program)
class ProgramAdmin(HistoryAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
