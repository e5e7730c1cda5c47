"""Templates through the API: read them, write drafts (an email's text and HTML parts),
submit, approve or reject, by the library's services and so by the admin's rules: a
marketer's token cannot approve, and nobody approves a version they wrote or edited (403
with the reason). A rule the content breaks (a missing part, HTML the sanitiser refuses, a
placeholder, the lint at submission) is a 400 naming the field."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.parsers import StrictJSONParser
from apps.library.api.serializers import MAX_BODY_LENGTH, StrictCharField
from apps.library.email_html import MAX_HTML_LENGTH
from apps.library.errors import LibraryError
from apps.library.models import (
    Category,
    Channel,
    MessageTemplate,
    Purpose,
    TemplateApproval,
    TemplateVersion,
    VersionStatus,
)
from apps.library.placeholders.rendering import version_text
from apps.library.selectors import open_version
from apps.library.services import (
    SELF_REVIEW,
    template_content_edit,
    template_create,
    template_draft_start,
    version_approve,
    version_reject,
    version_submit,
)

REFUSALS = ("permission_denied", SELF_REVIEW)
FIELD_ERRORS = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="Field errors, each naming its field.",
)


# --- Shapes ------------------------------------------------------------------------------


def _text_choice(choices) -> dict:
    """A choice documented as text listing its values: "purpose" and "status" name other
    choice sets elsewhere in the API, and one enum name per field name is all the schema has."""
    return {"type": "string", "description": "One of: " + ", ".join(choices.values) + "."}


@extend_schema_field(_text_choice(Purpose))
class PurposeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Purpose.choices, **kwargs)


@extend_schema_field({**_text_choice(VersionStatus), "readOnly": True})
class VersionStatusField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


class TemplateApprovalSerializer(serializers.ModelSerializer):
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TemplateApproval
        fields = ["reviewer", "decision", "as_role", "comment", "at"]


class TemplateVersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = VersionStatusField()
    approvals = TemplateApprovalSerializer(many=True, read_only=True)
    html = serializers.CharField(
        read_only=True, help_text="Email only: the HTML part, as stored (sanitised)."
    )
    text = serializers.SerializerMethodField(
        help_text="The text part as sent: `body`, or for an email whose body is blank, the "
        "text derived from `html`."
    )

    class Meta:
        model = TemplateVersion
        fields = [
            "id", "template", "number", "status", "body", "html", "text", "subject", "links",
            "defaults", "author", "created_at", "submitted_at", "decided_at", "lint_findings",
            "approvals",
        ]  # fmt: skip

    def get_text(self, version: TemplateVersion) -> str:
        return version_text(version)


class TemplateVersionSummarySerializer(serializers.ModelSerializer):
    status = VersionStatusField()

    class Meta:
        model = TemplateVersion
        fields = ["id", "number", "status"]


class TemplateSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    purpose = PurposeField(read_only=True)
    current_version = TemplateVersionSummarySerializer(read_only=True)
    open_version = serializers.SerializerMethodField()

    class Meta:
        model = MessageTemplate
        fields = [
            "id", "name", "channel", "purpose", "category", "owner", "tags",
            "current_version", "open_version", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(TemplateVersionSummarySerializer(allow_null=True))
    def get_open_version(self, template: MessageTemplate) -> dict | None:
        version = open_version(template)
        return TemplateVersionSummarySerializer(version).data if version else None


class TemplateDetailSerializer(TemplateSerializer):
    versions = TemplateVersionSerializer(many=True, read_only=True)

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "versions"]


class ContentSerializer(serializers.Serializer):
    """A version's content. The rules are the admin form's (library.checks.content_errors,
    asked by the services): a text needs its body; an email its text part, its HTML part or
    both; the HTML is sanitised when stored; placeholders must be known. A broken rule is a
    400 naming the field; the lint runs at submission."""

    body = StrictCharField(
        max_length=MAX_BODY_LENGTH,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        help_text="The text, or an email's text part (blank: derived from `html`).",
    )
    html = StrictCharField(
        max_length=MAX_HTML_LENGTH,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        help_text="Email only: the HTML part. Stored sanitised (no script, event handler or "
        "javascript: link; a <style> block that loads nothing), inlined when sent.",
    )
    subject = StrictCharField(max_length=200, required=False, allow_blank=True)
    links = serializers.DictField(required=False, help_text="Tracked links by name.")
    defaults = serializers.DictField(required=False, help_text="Text for a missing value.")


class TemplateCreateSerializer(ContentSerializer):
    body = StrictCharField(
        max_length=MAX_BODY_LENGTH,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        default="",
        help_text="The text, or an email's text part (blank: derived from `html`).",
    )
    name = StrictCharField(max_length=200)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS)
    purpose = PurposeField()
    category = serializers.ChoiceField(choices=Category.choices, default=Category.MARKETING)
    tags = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class DraftSerializer(ContentSerializer):
    """Only the content given changes; the rest is kept from the draft."""


class TemplateDecisionSerializer(serializers.Serializer):
    comment = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)


# --- Views -------------------------------------------------------------------------------


class CanViewTemplates(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("library.view_messagetemplate")


def _refused_as_403(call, **kwargs):
    """A workflow refusal (wrong role, one's own version) is a 403 with the reason; any
    other broken rule stays a 400 naming its field (core.api's handler)."""
    try:
        return call(**kwargs)
    except LibraryError as error:
        if error.code in REFUSALS:
            raise PermissionDenied(error.message, code=error.code) from error
        raise


class TemplatesView(generics.ListAPIView):
    """Every template with its live and open versions; POST creates one with its first
    draft (Marketer, Admin)."""

    queryset = MessageTemplate.objects.select_related("owner", "current_version").order_by("name")
    serializer_class = TemplateSerializer
    pagination_class = None  # a library holds hundreds of templates, not millions
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=TemplateCreateSerializer,
        responses={201: TemplateDetailSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request):
        given = TemplateCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        template = _refused_as_403(template_create, actor=request.user, **given.validated_data)
        return Response(TemplateDetailSerializer(template).data, status=status.HTTP_201_CREATED)


class TemplateView(generics.RetrieveAPIView):
    """One template with every version, newest first, and each version's decisions."""

    queryset = MessageTemplate.objects.select_related("owner", "current_version").prefetch_related(
        "versions__author", "versions__approvals__reviewer"
    )
    serializer_class = TemplateDetailSerializer


class TemplateDraftView(APIView):
    """The template's draft: the open one, or a new one copied from the approved version;
    content given is written into it (an approved version never changes)."""

    permission_classes = [IsAuthenticated, CanViewTemplates]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=DraftSerializer, responses={200: TemplateVersionSerializer, 400: FIELD_ERRORS}
    )
    def post(self, request, pk: int):
        template = generics.get_object_or_404(MessageTemplate, pk=pk)
        given = DraftSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        content = given.validated_data
        draft = None
        if content:
            draft = _refused_as_403(
                template_content_edit, actor=request.user, template=template, **content
            )
        if draft is None:  # nothing given, or nothing changed: the draft as it is
            draft = _refused_as_403(template_draft_start, actor=request.user, template=template)
        return Response(TemplateVersionSerializer(draft).data)


class VersionActionView(APIView):
    permission_classes = [IsAuthenticated, CanViewTemplates]
    parser_classes = [StrictJSONParser]

    def version(self, pk: int) -> TemplateVersion:
        return generics.get_object_or_404(TemplateVersion, pk=pk)


class VersionSubmitView(VersionActionView):
    """Freezes a draft for review once it passes the placeholder checks and the lint."""

    @extend_schema(request=None, responses={200: TemplateVersionSerializer, 400: FIELD_ERRORS})
    def post(self, request, pk: int):
        version = _refused_as_403(version_submit, actor=request.user, version=self.version(pk))
        return Response(TemplateVersionSerializer(version).data)


class VersionApproveView(VersionActionView):
    """Approves a submitted version: an approver (or compliance, where needed), never the
    version's author or editor."""

    @extend_schema(request=TemplateDecisionSerializer, responses={200: TemplateVersionSerializer})
    def post(self, request, pk: int):
        given = TemplateDecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = _refused_as_403(
            version_approve, actor=request.user, version=self.version(pk), **given.validated_data
        )
        return Response(TemplateVersionSerializer(version).data)


class VersionRejectView(VersionActionView):
    """Rejects a submitted version, with the reason its author reads (comment, required)."""

    @extend_schema(
        request=TemplateDecisionSerializer,
        responses={200: TemplateVersionSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request, pk: int):
        given = TemplateDecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = _refused_as_403(
            version_reject, actor=request.user, version=self.version(pk), **given.validated_data
        )
        return Response(TemplateVersionSerializer(version).data)
