"""Staff pages of the send pipeline under /admin/sends/: inside the admin (staff only,
admin chrome) though they belong to no model admin."""

from django.contrib import admin
from django.urls import path

from apps.sends.views.self_test import version_test_send_view
from apps.sends.views.verification import phone_verify_view

urlpatterns = [
    path("verify-phone/", admin.site.admin_view(phone_verify_view), name="sends-verify-phone"),
    path(
        "test-send/<int:version_id>/",
        admin.site.admin_view(version_test_send_view),
        name="sends-test-send",
    ),
]
