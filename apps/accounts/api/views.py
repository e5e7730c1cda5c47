from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_roles
from apps.accounts.tokens import token_revoke, token_rotate


class MeView(APIView):
    """Who the caller is and which roles they hold."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        return Response({"username": request.user.username, "roles": user_roles(user=request.user)})


class TokenRotateView(APIView):
    """A new key for the caller's API token, with the same expiry; the old key stops working
    at once and is refused as rotated. Recorded with who did it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "RotatedToken",
            {"key": serializers.CharField(), "expires_at": serializers.DateTimeField()},
        ),
    )
    def post(self, request):
        token = token_rotate(user=request.user, actor=request.user)
        return Response({"key": token.key, "expires_at": token.lifetime.expires_at})


class TokenRevokeView(APIView):
    """The caller's API token stops working at once and is refused as revoked."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token_revoke(user=request.user, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
