from django.urls import path

from apps.library.api import templates
from apps.library.api.views import TemplatePreviewView

urlpatterns = [
    path("templates/", templates.TemplatesView.as_view(), name="templates"),
    path("templates/preview/", TemplatePreviewView.as_view(), name="template-preview"),
    path("templates/<int:pk>/", templates.TemplateView.as_view(), name="template"),
    path("templates/<int:pk>/draft/", templates.TemplateDraftView.as_view(), name="template-draft"),
    path(
        "templates/versions/<int:pk>/submit/",
        templates.VersionSubmitView.as_view(),
        name="template-version-submit",
    ),
    path(
        "templates/versions/<int:pk>/approve/",
        templates.VersionApproveView.as_view(),
        name="template-version-approve",
    ),
    path(
        "templates/versions/<int:pk>/reject/",
        templates.VersionRejectView.as_view(),
        name="template-version-reject",
    ),
]
