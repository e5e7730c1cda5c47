"""POST /api/v1/contacts/search/: contacts found by phone number or email (or any filter of
the list) given in the body, so that personal data never sits in a URL, where every access
log and proxy keeps it. GET /api/v1/contacts/ refuses ?phone= and ?email= and points here
(filters.personal_params_refuse)."""

from django.http import QueryDict
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from apps.contacts.api.access import contacts_visible_to
from apps.contacts.api.filters import ContactSearchFilter
from apps.contacts.api.serializers import ContactSerializer
from apps.contacts.api.views import IdCursorPagination
from apps.core.api.parsers import StrictJSONParser
from apps.core.api.permissions import ModelPermissions


class SearchPermissions(ModelPermissions):
    """A search reads: POST needs the view permission, as GET does for the list."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class ContactSearchView(generics.GenericAPIView):
    """Contacts matching the body's filters (the list's: phone, email, external_id, source,
    lifecycle_stage, …), newest first, paged like the list. Sales reps find only their own."""

    serializer_class = ContactSerializer
    pagination_class = IdCursorPagination
    permission_classes = [SearchPermissions]
    parser_classes = [StrictJSONParser]

    def get_queryset(self):
        visible = contacts_visible_to(self.request.user).select_related("company", "owner")
        return visible.prefetch_related("external_ids")

    @extend_schema(
        request=inline_serializer(
            "ContactSearch",
            {
                "phone": serializers.CharField(required=False),
                "email": serializers.CharField(required=False),
                "external_id": serializers.CharField(required=False),
                "source": serializers.CharField(required=False),
            },
        ),
        responses=ContactSerializer(many=True),
    )
    def post(self, request):
        filters = ContactSearchFilter(
            data=_as_query(request.data), queryset=self.get_queryset(), request=request
        )
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        page = self.paginate_queryset(filters.qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _as_query(data) -> QueryDict:
    """The JSON object as the list's query string would give it (one value per name)."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Give a JSON object of filters."]})
    query = QueryDict(mutable=True)
    for name, value in data.items():
        if not isinstance(value, str | int):
            raise ValidationError({name: ["Give one text value."]})
        query[name] = str(value)
    return query
