from django.urls import path

from apps.accounts.api.views import MeView, TokenRevokeView, TokenRotateView

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/token/rotate/", TokenRotateView.as_view(), name="me-token-rotate"),
    path("me/token/revoke/", TokenRevokeView.as_view(), name="me-token-revoke"),
]
