from django.urls import path

from apps.contacts.api import data_subject, views

urlpatterns = [
    path("events/", views.EventsView.as_view(), name="events"),
    path("contacts/", views.ContactsView.as_view(), name="contacts"),
    path("contacts/<int:pk>/", views.ContactView.as_view(), name="contact"),
    path(
        "contacts/<int:pk>/export/",
        data_subject.ContactExportView.as_view(),
        name="contact-export",
    ),
    path("contacts/<int:pk>/erase/", data_subject.ContactEraseView.as_view(), name="contact-erase"),
    path("opportunities/", views.OpportunitiesView.as_view(), name="opportunities"),
]
