from django.urls import path

from apps.library.api.views import TemplatePreviewView

urlpatterns = [
    path("templates/preview/", TemplatePreviewView.as_view(), name="template-preview"),
]
