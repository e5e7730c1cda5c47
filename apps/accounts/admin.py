from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.template.response import TemplateResponse
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from apps.accounts.models import Brand, Program, Team, User, WorkingHours
from apps.accounts.services import brand_save, user_phone_set
from apps.accounts.tokens import token_create, token_revoke, token_rotate
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
        required=False,
        help_text="Empty: never expires. Rotate or revoke it with the list's actions.",
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

    actions = ["tokens_rotate", "tokens_revoke"]

    @admin.action(
        description="Rotate the selected tokens (new keys, same expiry)", permissions=["change"]
    )
    def tokens_rotate(self, request, queryset):
        consequence = (
            "Each of these users gets a new key with the same expiry; the old key stops "
            "working at once and is refused as rotated. Give each user their new key."
        )
        return self._confirmed(
            request, queryset, "tokens_rotate", "Rotate", consequence, token_rotate
        )

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def tokens_revoke(self, request, queryset):
        consequence = "These tokens stop working at once and are refused as revoked."
        return self._confirmed(
            request, queryset, "tokens_revoke", "Revoke", consequence, token_revoke
        )

    def _confirmed(self, request, queryset, action, verb, consequence, service):
        """The action's page asks first; the confirmed POST acts, recorded with who did it."""
        tokens = list(queryset.select_related("user"))
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta, "title": f"{verb} {len(tokens)} token(s)",
                "tokens": tokens, "action": action, "consequence": consequence,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }  # fmt: skip
            return TemplateResponse(
                request, "admin/authtoken/tokenproxy/action_confirm.html", context
            )
        for token in tokens:
            service(user=token.user, actor=request.user)
        self.message_user(request, f"{verb}d {len(tokens)} token(s).", messages.SUCCESS)
        return None

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
        ("Email", {"fields": ("email_from_name", "email_from_address", "postal_address")}),
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
