from django.contrib import admin
from django.urls import include, path

from apps.core.api.docs import DocsView, SchemaView
from apps.core.views import healthz

admin.site.site_header = "Cue"
admin.site.site_title = "Cue"
admin.site.index_title = "Dashboard"

api_v1 = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.contacts.api.urls")),
    path("", include("apps.consent.api.urls")),
    path("", include("apps.library.api.urls")),
    path("", include("apps.journeys.api.urls")),
]

urlpatterns = [
    # Before the admin's own URLs, which would otherwise answer for every admin/ address.
    path("admin/", admin.site.urls),
    path("account/two-factor/", include("apps.accounts.two_factor.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    path("optin/", include("apps.consent.urls")),
    path("tasks/", include("apps.routing.urls")),
    path("inbox/", include("apps.inbox.urls")),
    path("segment/", include("apps.segment_intake.urls")),
    path("webhooks/crm/", include("apps.crm.urls")),
    path("", include("apps.sends.urls")),
    path("healthz", healthz, name="healthz"),
]
