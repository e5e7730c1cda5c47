"""Admin for the consent ledger and what surrounds it. The ledger and the current state are
read-only for everyone; the proof of one contact's consent is a page and two exports."""

import logging
from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.cache import never_cache

from apps.accounts.selectors import brand_current
from apps.consent.forms import OptInFormAdminForm, SuppressionAdminForm
from apps.consent.models import (
    ConsentAttempt,
    ConsentDisclosure,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    OptInForm,
    Preference,
    Suppression,
)
from apps.consent.proof import consent_proof, proof_csv, proof_json
from apps.consent.selectors import DEVICE_EVIDENCE, consent_device_evidence_visible
from apps.consent.services import preference_set, suppression_add
from apps.contacts.models import Contact
from apps.core.admin import HistoryAdmin, ReadOnlyAdmin

logger = logging.getLogger(__name__)

PROOF_PERMISSION = "consent.export_consent_proof"


@admin.register(ConsentAttempt)
class ConsentAttemptAdmin(ReadOnlyAdmin):
    """Consent changes Cue refused (e.g. an import re-subscribing a number that said STOP)."""

    list_display = ["attempted_at", "address", "channel", "purpose", "source", "reason_code",
                    "contact", "actor"]  # fmt: skip
    list_filter = ["channel", "source", "reason_code"]
    list_select_related = ["contact", "actor"]
    search_fields = ["address", "=contact__id"]
    show_full_result_count = False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "contact", "channel", "purpose", "action", "source", "address"]
    list_filter = ["channel", "purpose", "action", "source"]
    list_select_related = ["contact"]
    search_fields = ["address", "=contact__id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_list_display(self, request):
        if request.user.has_perm(PROOF_PERMISSION):
            return [*self.list_display, "proof_link"]
        return self.list_display

    def get_exclude(self, request, obj=None):
        """IP address and user agent: Compliance's and Admin's to see, as in the API."""
        if consent_device_evidence_visible(request.user):
            return super().get_exclude(request, obj)
        return [*(super().get_exclude(request, obj) or []), *DEVICE_EVIDENCE]

    @admin.display(description="Proof")
    def proof_link(self, record):
        url = reverse("admin:consent_consentrecord_proof", args=[record.contact_id])
        return format_html('<a href="{}">Consent proof</a>', url)

    def get_urls(self):
        proof_urls = [
            path(
                "proof/<int:contact_id>/",
                self._proof_view(self.proof_page),
                name="consent_consentrecord_proof",
            ),
            path(
                "proof/<int:contact_id>.json",
                self._proof_view(self.proof_json),
                name="consent_consentrecord_proof_json",
            ),
            path(
                "proof/<int:contact_id>.csv",
                self._proof_view(self.proof_csv),
                name="consent_consentrecord_proof_csv",
            ),
        ]
        return proof_urls + super().get_urls()

    def _proof_view(self, view):
        """Signed in, then the export permission: anyone else gets 403, staff or not."""

        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not request.user.has_perm(PROOF_PERMISSION):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return never_cache(update_wrapper(guarded, view))

    def proof_page(self, request, contact_id: int):
        proof = consent_proof(contact=get_object_or_404(Contact, pk=contact_id))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Consent proof: {proof.contact}",
            "proof": proof,
        }
        return TemplateResponse(request, "admin/consent/consentrecord/proof.html", context)

    def proof_json(self, request, contact_id: int):
        return self._download(request, contact_id, "json", "application/json", proof_json)

    def proof_csv(self, request, contact_id: int):
        return self._download(request, contact_id, "csv", "text/csv; charset=utf-8", proof_csv)

    def _download(self, request, contact_id, extension, content_type, render):
        proof = consent_proof(contact=get_object_or_404(Contact, pk=contact_id))
        logger.info(
            "consent proof exported: contact=%s format=%s user=%s",
            contact_id,
            extension,
            request.user.get_username(),
        )
        response = HttpResponse(render(proof), content_type=content_type)
        filename = f"consent-proof-contact-{contact_id}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["contact", "channel", "purpose", "status", "address", "updated_at"]
    list_filter = ["channel", "purpose", "status"]
    list_select_related = ["contact"]
    search_fields = ["address", "=contact__id"]
    show_full_result_count = False
    raw_id_fields = ["contact", "last_record"]


@admin.register(Suppression)
class SuppressionAdmin(HistoryAdmin):
    form = SuppressionAdminForm
    list_display = ["address", "channel", "reason", "source", "contact", "created_at"]
    list_filter = ["channel", "reason", "source"]
    list_select_related = ["contact"]
    search_fields = ["address", "=contact__id"]
    raw_id_fields = ["contact"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # The address is the key the policy gate looks up; a different one is a new entry.
        if obj is not None and obj.is_consumer_revocation:
            return ["channel", "address", "reason", "source", "contact", "created_at"]
        return ["channel", "address", "source", "created_at"] if obj else ["source"]

    def has_delete_permission(self, request, obj=None):
        # Only the consumer lifts their own revocation (a START from the number).
        if obj is not None and obj.is_consumer_revocation:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        saved = suppression_add(
            address=obj.address,
            reason=obj.reason,
            source=ConsentSource.ADMIN,
            channel=obj.channel,
            contact=obj.contact,
            note=obj.note,
        )
        obj.pk = saved.pk


@admin.register(Preference)
class PreferenceAdmin(HistoryAdmin):
    list_display = ["contact", "sms_enabled", "email_enabled", "quiet_start", "quiet_end"]
    list_filter = ["sms_enabled", "email_enabled"]
    list_select_related = ["contact"]
    search_fields = ["=contact__id", "contact__email", "contact__phone"]
    raw_id_fields = ["contact"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return ["contact", "updated_at"] if obj else ["updated_at"]

    def save_model(self, request, obj, form, change):
        values = {
            name: form.cleaned_data[name]
            for name in ("sms_enabled", "email_enabled", "topics", "quiet_start", "quiet_end")
        }
        obj.pk = preference_set(contact=obj.contact, **values).pk


@admin.register(OptInForm)
class OptInFormAdmin(HistoryAdmin):
    form = OptInFormAdminForm
    list_display = ["name", "slug", "brand", "double_opt_in", "is_active", "live_form_link"]
    list_filter = ["is_active", "double_opt_in"]
    search_fields = ["name", "slug", "brand", "program_name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["live_form_link", "created_at"]
    list_select_related = ["disclosure"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_changeform_initial_data(self, request):
        """A new form starts from the brand's opt-in defaults, set under Accounts → Brand."""
        brand = brand_current()
        defaults = {
            "brand": brand.name,
            "program_name": brand.optin_program_name,
            "message_frequency": brand.optin_message_frequency,
            "help_contact": brand.support,
            "privacy_url": brand.optin_privacy_url,
            "terms_url": brand.optin_terms_url,
        }
        given = super().get_changeform_initial_data(request)
        return {**{name: value for name, value in defaults.items() if value}, **given}

    @admin.display(description="Live form")
    def live_form_link(self, form):
        if not form.pk:
            return "-"
        if not form.is_active:
            return "Inactive"
        url = reverse("optin:form", args=[form.slug])
        return format_html('<a href="{}" target="_blank" rel="noopener">View live form</a>', url)


@admin.register(ConsentDisclosure)
class ConsentDisclosureAdmin(admin.ModelAdmin):
    """Each version is kept as people saw it: a change is a new version, copied from one."""

    list_display = ["key", "version", "created_at"]
    search_fields = ["key", "text"]
    readonly_fields = ["created_at"]
    change_form_template = "admin/consent/consentdisclosure/change_form.html"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_display(self, request):
        if self.has_add_permission(request):
            return [*self.list_display, "new_version_link"]
        return self.list_display

    @admin.display(description="")
    def new_version_link(self, disclosure):
        return format_html('<a href="{}">New version</a>', self.new_version_url(disclosure))

    @staticmethod
    def new_version_url(disclosure: ConsentDisclosure) -> str:
        return f"{reverse('admin:consent_consentdisclosure_add')}?copy_from={disclosure.pk}"

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        copy_from = request.GET.get("copy_from", "")
        source = (
            ConsentDisclosure.objects.filter(pk=copy_from).first() if copy_from.isdigit() else None
        )
        if source is not None:
            initial.update(key=source.key, text=source.text)
        key = initial.get("key")
        if key:
            latest = ConsentDisclosure.objects.filter(key=key).order_by("-version").first()
            initial["version"] = latest.version + 1 if latest else 1
        return initial

    def change_view(self, request, object_id, form_url="", extra_context=None):
        disclosure = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if disclosure is not None and self.has_add_permission(request):
            extra_context["new_version_url"] = self.new_version_url(disclosure)
        return super().change_view(request, object_id, form_url, extra_context)
