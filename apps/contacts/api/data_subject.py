"""Data-subject requests through the API: `GET /api/v1/contacts/{id}/export/` and
`POST /api/v1/contacts/{id}/erase/`. Compliance and Admin only (their permissions, not
the contact's view permission: a sales rep who sees a contact may not export or erase it).
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.contacts.api.serializers import FIELD_ERRORS
from apps.contacts.erasure.formats import export_csv_zip, export_json
from apps.contacts.erasure.services import contact_erase, contact_export
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact
from apps.core.api.parsers import StrictJSONParser

EXPORT_PERMISSION = "contacts.export_personal_data"
ERASE_PERMISSION = "contacts.erase_personal_data"
FORMATS = ("json", "csv")


class _Holds(BasePermission):
    """The signed-in user holds `permission` (a visitor is asked to sign in: 401)."""

    permission = ""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(self.permission))


class MayExport(_Holds):
    permission = EXPORT_PERMISSION


class MayErase(_Holds):
    permission = ERASE_PERMISSION


def export_response(contact: Contact, actor, file_format: str) -> HttpResponse:
    """The export as a download: one JSON document, or a zip of one CSV per kind."""
    export = contact_export(contact=contact, actor=actor, format=file_format)
    if file_format == "csv":
        body, content_type, ext = export_csv_zip(export), "application/zip", "zip"
    else:
        body, content_type, ext = export_json(export), "application/json", "json"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-data.{ext}"'
    response["Cache-Control"] = "no-store"
    return response


class ContactExportView(APIView):
    """Everything Cue holds about the person, as JSON (default) or `?as=csv`: a zip of one
    CSV per kind of rows. The request is recorded (who, when, counts) in the audit trail."""

    permission_classes = [MayExport]

    @extend_schema(
        parameters=[OpenApiParameter("as", str, enum=list(FORMATS), default="json")],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/zip"): OpenApiTypes.BINARY,
            400: OpenApiResponse(FIELD_ERRORS, description="Field errors."),
        },
    )
    def get(self, request, pk: int):
        file_format = request.query_params.get("as", "json")
        if file_format not in FORMATS:
            return Response(
                {"as": [f"Choose {' or '.join(FORMATS)}."]}, status=status.HTTP_400_BAD_REQUEST
            )
        contact = get_object_or_404(Contact, pk=pk)
        return export_response(contact, request.user, file_format)


class EraseRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000,
        help_text="Why (e.g. the person's request and its date); kept in the audit trail, "
        "so without the person's name, number, email or ids.",
    )
    confirm = serializers.BooleanField(help_text="true: erasure cannot be undone.")

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Set confirm to true: an erasure cannot be undone.")
        return value


class ErasureResultSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    erased_at = serializers.DateTimeField()
    counts = serializers.DictField(child=serializers.IntegerField())


class ContactEraseView(APIView):
    """Erases the person's data in place: 200 with the rows anonymised per kind; 400 with
    field errors for a missing reason or confirmation, or a contact already erased; 409
    while a message to the person is being handed to the provider (try again shortly)."""

    permission_classes = [MayErase]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=EraseRequestSerializer,
        responses={
            200: ErasureResultSerializer,
            400: OpenApiResponse(FIELD_ERRORS, description="Field errors."),
            409: OpenApiResponse(FIELD_ERRORS, description="A message is being sent now."),
        },
    )
    def post(self, request, pk: int):
        contact = get_object_or_404(Contact, pk=pk)
        serializer = EraseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = contact_erase(
                contact=contact, actor=request.user, reason=serializer.validated_data["reason"]
            )
        except ContactsError as error:
            code = status.HTTP_409_CONFLICT if error.code == "busy" else 400
            return Response(error.as_field_errors(), status=code)
        return Response(ErasureResultSerializer(result).data)
