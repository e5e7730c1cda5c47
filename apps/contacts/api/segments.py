"""Segments through the API: list, create, edit, count and sample, with the admin's rules.

The rules are the stored JSON (apps/contacts/segments/__init__.py); a rule the compiler
would refuse is a 400 naming its path under "rules", e.g.
{"rules": ["all[0].field: \"plan_tier\" is not a field; choose from ..."]}. Counting and
sampling run the one compiler the admin's builder and the journeys use (segment_preview).
A sample lists contacts, so only a caller who may read contacts gets one.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.contacts.api.serializers import FIELD_ERRORS
from apps.contacts.models import Contact, Segment
from apps.contacts.segments import segment_preview
from apps.contacts.segments.services import segment_create, segment_update
from apps.core.api.parsers import StrictJSONParser

SAMPLE_DEFAULT, SAMPLE_MAX = 25, 100
BAD_REQUEST = OpenApiResponse(FIELD_ERRORS, description="Field errors, each naming its field.")
RULES_HELP = (
    'A rule group, e.g. {"all": [{"field": "intent_band", "op": "eq", "value": "high"}]}: '
    "fields, custom attributes, events, opportunities, consent and other segments."
)


class SegmentSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "rules", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]


class SegmentWriteSerializer(serializers.Serializer):
    """Checked for shape here; the rules and the name's uniqueness by segment_create/_update."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    rules = serializers.JSONField(help_text=RULES_HELP)


class SegmentPreviewInputSerializer(serializers.Serializer):
    rules = serializers.JSONField(help_text=RULES_HELP)
    size = serializers.IntegerField(
        required=False, min_value=0, max_value=SAMPLE_MAX, default=SAMPLE_DEFAULT
    )


class SampleContactSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="full_name")

    class Meta:
        model = Contact
        fields = ["id", "name", "email", "lifecycle_stage", "intent_band", "intent_score"]


class SegmentCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class SegmentSampleSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    contacts = SampleContactSerializer(
        many=True, required=False, help_text="Only for callers who may read contacts."
    )


class CanViewSegments(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("contacts.view_segment")


def _sample_allowed(user) -> bool:
    return user.has_perm("contacts.view_contact")


def _answer(preview, *, with_contacts: bool) -> dict:
    answer = {"count": preview.count}
    if with_contacts:
        answer["contacts"] = SampleContactSerializer(preview.contacts, many=True).data
    return answer


class SegmentsView(generics.ListAPIView):
    """Every segment, by name; POST creates one (Marketer, Admin)."""

    queryset = Segment.objects.select_related("created_by").order_by("name")
    serializer_class = SegmentSerializer
    pagination_class = None  # segments are tens, not millions
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=SegmentWriteSerializer, responses={201: SegmentSerializer, 400: BAD_REQUEST}
    )
    def post(self, request):
        given = SegmentWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        segment = segment_create(actor=request.user, **given.validated_data)
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentView(generics.RetrieveAPIView):
    """One segment; PATCH changes its name, description or rules (Marketer, Admin)."""

    queryset = Segment.objects.select_related("created_by")
    serializer_class = SegmentSerializer
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=SegmentWriteSerializer, responses={200: SegmentSerializer, 400: BAD_REQUEST}
    )
    def patch(self, request, pk: int):
        segment = self.get_object()
        given = SegmentWriteSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        fields = {name: given.validated_data[name] for name in request.data if name in given.fields}
        segment = segment_update(actor=request.user, segment=segment, fields=fields)
        return Response(SegmentSerializer(segment).data)


class SegmentCountView(generics.GenericAPIView):
    """How many contacts the saved segment holds now."""

    queryset = Segment.objects.all()
    serializer_class = SegmentCountSerializer

    def get(self, request, pk: int):
        segment = self.get_object()
        preview = segment_preview(rules=segment.rules, segment_id=segment.pk, limit=0)
        return Response({"count": preview.count})


class SegmentSampleView(generics.GenericAPIView):
    """The count and the first `size` matching contacts, newest first: for callers who may
    read contacts (403 otherwise)."""

    queryset = Segment.objects.all()
    serializer_class = SegmentSampleSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "size",
                int,
                description=f"1 to {SAMPLE_MAX} contacts; {SAMPLE_DEFAULT} if not given.",
            )
        ],
        responses={200: SegmentSampleSerializer, 400: BAD_REQUEST},
    )
    def get(self, request, pk: int):
        segment = self.get_object()
        if not _sample_allowed(request.user):
            raise PermissionDenied("You may not read contacts, so no sample is shown.")
        size = serializers.IntegerField(min_value=1, max_value=SAMPLE_MAX)
        try:
            limit = size.run_validation(request.query_params.get("size", SAMPLE_DEFAULT))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"size": error.detail}) from error
        preview = segment_preview(rules=segment.rules, segment_id=segment.pk, limit=limit)
        return Response(_answer(preview, with_contacts=True))


class SegmentPreviewView(APIView):
    """Count rules that are not saved (yet), with a sample of `size` contacts for callers who
    may read contacts: the same answer the admin's builder shows."""

    permission_classes = [IsAuthenticated, CanViewSegments]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=SegmentPreviewInputSerializer,
        responses={200: SegmentSampleSerializer, 400: BAD_REQUEST},
    )
    def post(self, request):
        given = SegmentPreviewInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with_contacts = _sample_allowed(request.user)
        limit = given.validated_data["size"] if with_contacts else 0
        preview = segment_preview(rules=given.validated_data["rules"], limit=limit)
        return Response(_answer(preview, with_contacts=with_contacts))
