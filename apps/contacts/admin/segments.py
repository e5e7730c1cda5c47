"""Segments in the admin: rules built by pointing and clicking (the JSON stays the stored
form, shown to power users), checked in place, previewed as they change."""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.http import JsonResponse
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, Segment
from apps.contacts.segments import (
    SegmentRulesError,
    segment_contacts,
    segment_preview,
    segment_rules_validate,
)
from apps.contacts.segments.catalogue import segment_catalogue
from apps.contacts.segments.references import segment_referrers
from apps.contacts.segments.registry import is_whole_number
from apps.core.admin import HistoryAdmin
from apps.core.text import StorableJSONDecoder, StorableJSONField

PREVIEW_LIMIT = 25


class RulesField(StorableJSONField):
    """Shows the rules indented, so that they can be read and edited in a textarea."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class SegmentForm(forms.ModelForm):
    rules = RulesField(
        widget=forms.Textarea(
            attrs={"rows": 18, "class": "vLargeTextField segment-rules", "spellcheck": "false"}
        ),
        help_text="The rules as stored: built above, or written here as a rule group, e.g. "
        '{"all": [{"field": "intent_band", "op": "eq", "value": "high"}]}. '
        "The reference is below.",
    )

    class Meta:
        model = Segment
        fields = ["name", "description", "rules"]

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        errors = segment_rules_validate(rules, segment_id=self.instance.pk)
        if errors:
            raise ValidationError(errors)
        return rules


@admin.register(Segment)
class SegmentAdmin(HistoryAdmin):
    form = SegmentForm
    # No count here: each segment is its own query; the change page shows it.
    list_display = ["name", "description", "created_by", "updated_at"]
    list_select_related = ["created_by"]
    search_fields = ["name", "description"]
    readonly_fields = ["matching_contacts", "created_by", "created_at", "updated_at"]
    change_form_template = "admin/contacts/segment/change_form.html"

    class Media:
        js = ["cue/segment_builder.js", "cue/segment_preview.js"]
        css = {"all": ["cue/segment_builder.css"]}

    def get_fields(self, request, obj=None):
        fields = ["name", "description", "rules"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def get_urls(self):
        preview = require_POST(csrf_protect(never_cache(self.preview_view)))
        catalogue = require_GET(never_cache(self.catalogue_view))
        # Before the default URLs: their "<path:object_id>/" would take these.
        return [
            path("preview/", preview, name="contacts_segment_preview"),
            path("catalogue/", catalogue, name="contacts_segment_catalogue"),
            *super().get_urls(),
        ]

    @admin.display(description="Matching contacts now")
    def matching_contacts(self, obj: Segment) -> str:
        try:
            return f"{segment_contacts(rules=obj.rules, segment_id=obj.pk).count():,}"
        except ContactsError as error:
            return f"The rules are invalid: {error.message}"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_deleted_objects(self, objs, request):
        """A segment that others include cannot be deleted: their rules would break."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for segment in objs:
            protected += [
                f"{referrer} (includes {segment})" for referrer in segment_referrers(segment.pk)
            ]
        return deleted, counts, perms_needed, protected

    def catalogue_view(self, request):
        """GET → the fields, operators and values the builder offers (segments.catalogue)."""
        if not (self.admin_site.has_permission(request) and self.has_view_permission(request)):
            return JsonResponse({"errors": ["You may not build segments."]}, status=403)
        return JsonResponse(segment_catalogue())

    def preview_view(self, request):
        """POST {"rules": ..., "segment": id?} → {"count", "contacts"} or 400 {"errors"}."""
        if not (self.admin_site.has_permission(request) and self.has_view_permission(request)):
            return JsonResponse({"errors": ["You may not preview segments."]}, status=403)
        try:
            payload = json.loads(request.body, cls=StorableJSONDecoder)
        except ValueError as error:
            return JsonResponse({"errors": [f"rules: not valid JSON ({error})"]}, status=400)
        segment_id = payload.get("segment") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or "rules" not in payload:
            return JsonResponse({"errors": ['rules: send {"rules": ...}']}, status=400)
        if segment_id is not None and not is_whole_number(segment_id):
            return JsonResponse({"errors": ["segment: give the segment's id"]}, status=400)
        shows_contacts = request.user.has_perm("contacts.view_contact")
        try:
            preview = segment_preview(
                rules=payload["rules"],
                segment_id=segment_id,
                limit=PREVIEW_LIMIT if shows_contacts else 0,
            )
        except SegmentRulesError as error:
            return JsonResponse({"errors": error.errors}, status=400)
        contacts = [_contact_row(contact) for contact in preview.contacts]
        return JsonResponse({"count": preview.count, "contacts": contacts})


def _contact_row(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "name": contact.full_name,
        "email": contact.email,
        "lifecycle_stage": contact.get_lifecycle_stage_display(),
        "intent_band": contact.get_intent_band_display(),
        "intent_score": round(contact.intent_score, 1),
        "url": reverse("admin:contacts_contact_change", args=[contact.pk]),
    }
