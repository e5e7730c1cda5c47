from django.urls import path

from apps.consent.api import views

urlpatterns = [
    path(
        "contacts/<int:contact_id>/consent/",
        views.ContactConsentView.as_view(),
        name="contact-consent",
    ),
]
