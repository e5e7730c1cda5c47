"""Data-subject requests in the admin, for Compliance and Admin: on the contact list, an
export (JSON, or a zip of CSVs) of the one selected contact, and an erasure that leads to
a confirmation page showing what goes (rows per kind) and asking why."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.contacts.api.data_subject import ERASE_PERMISSION, EXPORT_PERMISSION, export_response
from apps.contacts.erasure.services import REASON_REQUIRED, contact_erase, contact_erase_preview
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, DataSubjectRequest
from apps.core.text import text_storable

ONE_CONTACT = "Select exactly one contact."


class ContactEraseForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why, e.g. the person's request and its date. Kept in the audit trail, so "
        "write it without the person's name, number, email or ids.",
        error_messages={"required": REASON_REQUIRED},
    )
    confirm = forms.BooleanField(
        label="I understand that this cannot be undone",
        error_messages={"required": "Tick the box: an erasure cannot be undone."},
    )

    def clean_reason(self) -> str:
        reason = text_storable(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError(REASON_REQUIRED)
        return reason


class ContactDataSubjectAdminMixin:
    """The export and erase actions and the erasure's confirmation page, for ContactAdmin."""

    actions = ["export_json", "export_csv", "erase_selected"]

    @admin.action(
        description="Export everything Cue holds about them (JSON)", permissions=["export"]
    )
    def export_json(self, request, queryset):
        return self._export(request, queryset, "json")

    @admin.action(
        description="Export everything Cue holds about them (CSV, zip)", permissions=["export"]
    )
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description="Erase their personal data…", permissions=["erase"])
    def erase_selected(self, request, queryset):
        contact = self._one(request, queryset)
        if contact is None:
            return None
        return HttpResponseRedirect(reverse("admin:contacts_contact_erase", args=[contact.pk]))

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm(ERASE_PERMISSION)

    def _export(self, request, queryset, file_format: str):
        contact = self._one(request, queryset)
        return None if contact is None else export_response(contact, request.user, file_format)

    def _one(self, request, queryset) -> Contact | None:
        found = list(queryset[:2])
        if len(found) != 1:
            self.message_user(request, ONE_CONTACT, messages.ERROR)
            return None
        return found[0]

    def get_urls(self):
        erase = path(
            "<path:object_id>/erase/",
            self.admin_site.admin_view(self.erase_view),
            name="contacts_contact_erase",
        )
        return [erase, *super().get_urls()]

    def erase_view(self, request, object_id):
        if not self.has_erase_permission(request):
            raise PermissionDenied
        contact = get_object_or_404(Contact, pk=int(object_id) if object_id.isdigit() else 0)
        form = ContactEraseForm(request.POST or None)
        if contact.erased_at is None and request.method == "POST" and form.is_valid():
            try:
                result = contact_erase(
                    contact=contact, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ContactsError as error:
                form.add_error("reason" if error.field == "reason" else None, error.message)
            else:
                self.message_user(request, _erased_message(result), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:contacts_contact_change", args=[contact.pk])
                )
        return self._erase_page(request, contact, form)

    def _erase_page(self, request, contact: Contact, form):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Erase contact {contact.pk}",
            "contact": contact,
            "preview": contact_erase_preview(contact=contact),
            "form": form,
        }
        return TemplateResponse(request, "admin/contacts/contact/erase.html", context)


def _erased_message(result) -> str:
    rows = sum(result.counts.values())
    return (
        f"Contact {result.contact_id} was erased: {rows} rows anonymised or removed. Its "
        "consent ledger rows and suppressions are kept under a keyed hash of the address."
    )


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    """Who exported or erased whose data, when, why, and how many rows: never the data.
    Written by the requests themselves; read here, never changed."""

    list_display = ["at", "kind", "contact_id", "actor", "format", "reason"]
    list_filter = ["kind"]
    list_select_related = ["actor"]
    search_fields = ["=contact_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
