from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.library.api.serializers import TemplatePreviewInputSerializer, TemplatePreviewSerializer
from apps.library.checks import editor_preview


class CanViewTemplates(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("library.view_messagetemplate")


class TemplatePreviewView(APIView):
    """Size of an SMS body as typed and at its longest, any placeholder errors, and with a
    category the compliance lint Submit would run."""

    permission_classes = [IsAuthenticated, CanViewTemplates]

    @extend_schema(request=TemplatePreviewInputSerializer, responses=TemplatePreviewSerializer)
    def post(self, request):
        given = TemplatePreviewInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response(editor_preview(**given.validated_data))
