"""Merging two contacts in the admin: an action on the contact list leads to a preview
(which contact survives, what moves, each field's outcome, a required reason), and only
its confirmation merges. An admin's alone: a merge changes one contact and deletes the
other, so it takes both permissions."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from apps.contacts.errors import ContactsError
from apps.contacts.merge import contact_merge, contact_merge_preview, contact_merged_into
from apps.contacts.models import Contact
from apps.core.text import text_storable

MERGE_PERMISSIONS = ("contacts.change_contact", "contacts.delete_contact")


class ContactMergeForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why these two contacts are one person. Kept in both contacts' history.",
        error_messages={"required": "Say why these two contacts are one person."},
    )

    def clean_reason(self) -> str:
        reason = text_storable(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError("Say why these two contacts are one person.")
        return reason


class ContactMergeAdminMixin:
    """The merge action and its preview page, for ContactAdmin."""

    actions = ["merge_selected"]

    @admin.action(description="Merge two selected contacts…", permissions=["merge"])
    def merge_selected(self, request, queryset):
        pks = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(pks) != 2:
            self.message_user(request, "Select exactly two contacts to merge.", messages.ERROR)
            return None
        # The older record survives unless the admin swaps them on the preview.
        return HttpResponseRedirect(_merge_url(survivor=pks[0], duplicate=pks[1]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """An old link to a contact merged away leads to the contact it lives on as."""
        survivor = contact_merged_into(int(object_id)) if str(object_id).isdigit() else None
        if survivor is not None and not Contact.objects.filter(pk=object_id).exists():
            self.message_user(request, f"Contact {object_id} was merged into this contact.")
            return HttpResponseRedirect(
                reverse("admin:contacts_contact_change", args=[survivor.pk])
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_merge_permission(self, request) -> bool:
        return request.user.has_perms(MERGE_PERMISSIONS)

    def get_urls(self):
        merge = path(
            "merge/",
            self.admin_site.admin_view(self.merge_view),
            name="contacts_contact_merge",
        )
        return [merge, *super().get_urls()]

    def merge_view(self, request):
        if not self.has_merge_permission(request):
            raise PermissionDenied
        survivor, duplicate = _pair(request)
        if survivor.pk == duplicate.pk:
            self.message_user(request, "A contact cannot be merged into itself.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:contacts_contact_changelist"))
        form = ContactMergeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = contact_merge(
                    survivor=survivor,
                    duplicate=duplicate,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ContactsError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, _merged_message(result), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:contacts_contact_change", args=[survivor.pk])
                )
        return self._merge_page(request, survivor, duplicate, form)

    def _merge_page(self, request, survivor, duplicate, form):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Merge two contacts",
            "preview": contact_merge_preview(survivor=survivor, duplicate=duplicate),
            "form": form,
            "swap_url": _merge_url(survivor=duplicate.pk, duplicate=survivor.pk),
        }
        return TemplateResponse(request, "admin/contacts/contact/merge.html", context)


def _pair(request) -> tuple[Contact, Contact]:
    """The two contacts the query names; 404 for a missing or malformed id."""
    found = []
    for role in ("survivor", "duplicate"):
        value = request.GET.get(role, "")
        found.append(get_object_or_404(Contact, pk=int(value) if value.isdigit() else 0))
    return found[0], found[1]


def _merge_url(*, survivor: int, duplicate: int) -> str:
    query = urlencode({"survivor": survivor, "duplicate": duplicate})
    return f"{reverse('admin:contacts_contact_merge')}?{query}"


def _merged_message(result) -> str:
    moved = (
        ", ".join(f"{count} {label.lower()}" for label, count in result.moved.items() if count)
        or "nothing"
    )
    summary = f"Contact {result.duplicate_id} merged into {result.survivor}: moved {moved}."
    return " ".join([summary, *result.notes])
