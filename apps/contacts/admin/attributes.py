"""Custom attributes in the admin: their definitions, and one field per attribute on the
contact page, checked by the same function as every other write."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db import transaction
from django.db.models import Q

from apps.contacts.attributes import (
    AttributesError,
    attribute_definitions,
    attributes_merge,
    attributes_validate,
)
from apps.contacts.models import AttributeDefinition, AttributeObject, AttributeType
from apps.contacts.pii import pii_attribute_keys_refresh
from apps.contacts.segments import SegmentContext
from apps.contacts.segments.attributes import attribute_compile
from apps.core.admin import HistoryAdmin

FIELD_PREFIX = "attr_"
FORMATS = {
    AttributeType.NUMBER: "A number, e.g. 42 or 3.5.",
    AttributeType.DATE: "YYYY-MM-DD, e.g. 2026-03-31.",
    AttributeType.DATETIME: "ISO 8601 with an offset, e.g. 2026-03-31T14:00:00-05:00.",
    AttributeType.LIST: "Items separated by semicolons, e.g. sms; email.",
}
BOOLEAN_CHOICES = [("", "—"), ("yes", "Yes"), ("no", "No")]


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(HistoryAdmin):
    list_display = ["key", "label", "object_type", "type", "pii"]
    list_filter = ["object_type", "type", "pii"]
    search_fields = ["key", "label"]

    def get_readonly_fields(self, request, obj=None):
        """Stored values were checked against the key, type and object: they stay."""
        return ["object_type", "key", "type"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(pii_attribute_keys_refresh)  # this process masks at once


class ContactAttributesFormMixin:
    """A field per contact attribute, as text read by the attribute's type; a bad value is
    an error on its field, and `attribute_changes` holds what the save must change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.attribute_changes: dict = {}
        self.attribute_definitions = attribute_definitions(object_type=AttributeObject.CONTACT)
        stored = self.instance.attributes or {}
        for key, definition in self.attribute_definitions.items():
            field = _form_field(definition)
            field.initial = _as_text(stored.get(key))
            self.fields[f"{FIELD_PREFIX}{key}"] = field

    def clean(self):
        cleaned = super().clean()
        cells = {
            key: cleaned.get(f"{FIELD_PREFIX}{key}") or ""
            for key in self.attribute_definitions
            if f"{FIELD_PREFIX}{key}" in self.changed_data
        }
        try:
            changes = attributes_validate(
                object_type=AttributeObject.CONTACT,
                values=cells,
                partial=True,
                from_text=True,
                definitions=self.attribute_definitions,
            )
        except AttributesError as error:
            for key, messages in error.errors.items():
                self.add_error(f"{FIELD_PREFIX}{key}", messages)
            return cleaned
        stored = self.instance.attributes or {}
        self.attribute_changes = {k: v for k, v in changes.items() if stored.get(k) != v}
        return cleaned


def _form_field(definition: AttributeDefinition) -> forms.Field:
    label, help_text = definition.label, FORMATS.get(definition.type, "")
    if definition.type == AttributeType.CHOICE:
        choices = [("", "—"), *((option, option) for option in definition.options)]
        return forms.ChoiceField(choices=choices, required=False, label=label)
    if definition.type == AttributeType.BOOLEAN:
        return forms.ChoiceField(choices=BOOLEAN_CHOICES, required=False, label=label)
    widget = forms.Textarea(attrs={"rows": 2}) if definition.type == AttributeType.TEXT else None
    return forms.CharField(required=False, label=label, help_text=help_text, widget=widget)


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else str(value)


class ContactAttributesAdminMixin:
    """The contact page's "Custom attributes" section and a list filter for each choice
    and yes/no attribute."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        keys = AttributeDefinition.objects.filter(object_type=AttributeObject.CONTACT)
        names = [f"{FIELD_PREFIX}{key}" for key in keys.values_list("key", flat=True)]
        return [*fieldsets, ("Custom attributes", {"fields": names})] if names else fieldsets

    def get_form(self, request, obj=None, **kwargs):
        # The attribute fields are made by the form itself: the model knows none of them.
        fields = kwargs.get("fields") or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [name for name in fields if not name.startswith(FIELD_PREFIX)]
        return super().get_form(request, obj, **kwargs)

    def get_list_filter(self, request):
        filterable = AttributeDefinition.objects.filter(
            object_type=AttributeObject.CONTACT,
            type__in=[AttributeType.CHOICE, AttributeType.BOOLEAN],
        )
        return [*super().get_list_filter(request), *map(attribute_list_filter, filterable)]

    def attributes_for_save(self, obj, form) -> dict | None:
        """The merged attributes a new contact is saved with, or the change for an update."""
        changes = getattr(form, "attribute_changes", {})
        if obj.pk is None:
            obj.attributes = attributes_merge(obj.attributes, changes)
            return None
        return changes or None


def attribute_list_filter(definition: AttributeDefinition) -> type[admin.SimpleListFilter]:
    """A filter on one attribute, compiled as its segment rule would be."""
    if definition.type == AttributeType.BOOLEAN:
        choices = [("yes", "Yes"), ("no", "No")]
    else:
        choices = [(option, option) for option in definition.options]

    class AttributeFilter(admin.SimpleListFilter):
        title = definition.label
        parameter_name = f"{FIELD_PREFIX}{definition.key}"

        def lookups(self, request, model_admin):
            return [*choices, ("__none__", "Not set")]

        def queryset(self, request, queryset):
            value = self.value()
            if value is None or value not in {key for key, _ in self.lookup_choices}:
                return queryset
            return queryset.filter(_filter_rule(definition, value))

    return AttributeFilter


def _filter_rule(definition: AttributeDefinition, value: str) -> Q:
    if value == "__none__":
        rule = {"attribute": definition.key, "op": "is_not_set"}
    else:
        typed = value == "yes" if definition.type == AttributeType.BOOLEAN else value
        rule = {"attribute": definition.key, "op": "eq", "value": typed}
    return attribute_compile(rule, SegmentContext())
