from django.urls import path

from apps.contacts.api import data_subject, search, segments, views

urlpatterns = [
    path("events/", views.EventsView.as_view(), name="events"),
    path("contacts/", views.ContactsView.as_view(), name="contacts"),
    path("contacts/search/", search.ContactSearchView.as_view(), name="contact-search"),
    path("contacts/<int:pk>/", views.ContactView.as_view(), name="contact"),
    path(
        "contacts/<int:pk>/export/",
        data_subject.ContactExportView.as_view(),
        name="contact-export",
    ),
    path("contacts/<int:pk>/erase/", data_subject.ContactEraseView.as_view(), name="contact-erase"),
    path("opportunities/", views.OpportunitiesView.as_view(), name="opportunities"),
    path("segments/", segments.SegmentsView.as_view(), name="segments"),
    path("segments/preview/", segments.SegmentPreviewView.as_view(), name="segment-preview"),
    path("segments/<int:pk>/", segments.SegmentView.as_view(), name="segment"),
    path("segments/<int:pk>/count/", segments.SegmentCountView.as_view(), name="segment-count"),
    path("segments/<int:pk>/sample/", segments.SegmentSampleView.as_view(), name="segment-sample"),
]
