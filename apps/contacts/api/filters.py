from datetime import UTC

from django import forms
from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError

from apps.contacts.api.fields import choices_invalid_message
from apps.contacts.attributes import AttributesError
from apps.contacts.identity import phone_e164
from apps.contacts.models import (
    BuyingRole,
    Contact,
    ContactExternalId,
    ContactKind,
    ExternalIdSource,
    IntentBand,
    Opportunity,
)
from apps.contacts.segments.attributes import attributes_equal
from apps.contacts.stages import lifecycle_choices, pipeline_stage_keys


def _choice_filter(choices, **kwargs) -> filters.ChoiceFilter:
    """A choice filter whose error names every allowed value."""
    message = choices_invalid_message(choices, "%(value)s")
    return filters.ChoiceFilter(
        choices=choices.choices, error_messages={"invalid_choice": message}, **kwargs
    )


def _stage_filter(choices, noun: str) -> filters.ChoiceFilter:
    """A filter on the customer's stages, read when the filter is used (they are data)."""
    message = f'"%(value)s" is not a {noun}.'
    return filters.ChoiceFilter(choices=choices, error_messages={"invalid_choice": message})


def _opportunity_stage_choices() -> list[tuple[str, str]]:
    return [(key, key) for key in pipeline_stage_keys()]


class PhoneFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return phone_e164(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class PhoneFilter(filters.CharFilter):
    field_class = PhoneFormField


class UtcDateTimeFormField(IsoDateTimeField):
    """An ISO 8601 moment, refused rather than overflowing when the database converts it."""

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError("This moment is out of range.") from error


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeFormField


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


# `?attr.plan=pro`: a custom attribute equals a value, read by the attribute's type.
ATTRIBUTE_PARAM = "attr."


SEARCH_PATH = "/api/v1/contacts/search/"
PERSONAL_PARAMS = ("phone", "email")


def personal_params_refuse(query_params) -> None:
    """A 400 pointing to the search for a phone number or email given in a query string:
    URLs are kept by every access log and proxy, a POST body is not."""
    given = [name for name in PERSONAL_PARAMS if name in query_params]
    if given:
        message = (
            "Phone numbers and emails are not taken in URLs (access logs keep URLs): "
            f'POST {{"{given[0]}": …}} to {SEARCH_PATH} instead.'
        )
        raise ValidationError({name: [message] for name in given})


class ContactFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") and not cleaned.get("external_id"):
            raise forms.ValidationError(
                {"source": "source says whose external_id to look up: give external_id too."}
            )
        return cleaned


class ContactFilter(filters.FilterSet):
    lifecycle_stage = _stage_filter(lifecycle_choices, "lifecycle stage")
    kind = _choice_filter(ContactKind)
    intent_band = _choice_filter(IntentBand)
    buying_role = _choice_filter(BuyingRole)
    owner = filters.CharFilter(method="owner_filter", help_text="A user id or username.")
    external_id = filters.CharFilter(
        method="external_id_filter", help_text="The contact's id in `source` (default: api)."
    )
    source = _choice_filter(
        ExternalIdSource,
        method="source_filter",
        help_text="Whose id external_id is: api (the default), segment, hubspot, salesforce.",
    )
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = []
        form = ContactFilterForm

    def external_id_filter(self, queryset, name, value):
        source = self.form.cleaned_data.get("source") or ExternalIdSource.API
        if source == ExternalIdSource.API:
            return queryset.filter(external_id=value)
        ids = ContactExternalId.objects.filter(contact=OuterRef("pk"), source=source, value=value)
        return queryset.filter(Exists(ids))

    def source_filter(self, queryset, name, value):
        return queryset  # read by external_id_filter

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        values = {}
        for param in self.data:
            if param.startswith(ATTRIBUTE_PARAM):
                given = self.data.getlist(param) if hasattr(self.data, "getlist") else []
                if len(given) > 1:
                    raise ValidationError({param: ["Give one value."]})
                values[param[len(ATTRIBUTE_PARAM) :]] = given[0] if given else ""
        if not values:
            return queryset
        try:
            return queryset.filter(attributes_equal(values=values))
        except AttributesError as error:
            raise ValidationError(
                {f"{ATTRIBUTE_PARAM}{key}": messages for key, messages in error.errors.items()}
            ) from error

    def owner_filter(self, queryset, name, value):
        match = Q(owner__username=value)
        if value.isascii() and value.isdigit():
            match |= Q(owner_id=int(value))
        return queryset.filter(match)


class ContactSearchFilter(ContactFilter):
    """The list's filters and the personal ones, which only a POST body carries (the list's
    GET has no phone or email parameter, in the schema or in a URL)."""

    email = filters.CharFilter(lookup_expr="iexact")
    phone = PhoneFilter(help_text="Any common form, compared as E.164.")


class OpportunityFilter(filters.FilterSet):
    stage = _stage_filter(_opportunity_stage_choices, "opportunity stage")
    contact = IdFilter(field_name="contact_id")

    class Meta:
        model = Opportunity
        fields = []
