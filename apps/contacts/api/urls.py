from django.urls import path

from apps.contacts.api import views

urlpatterns = [
    path("events/", views.EventsView.as_view(), name="events"),
    path("contacts/", views.ContactsView.as_view(), name="contacts"),
    path("contacts/<int:pk>/", views.ContactView.as_view(), name="contact"),
    path("opportunities/", views.OpportunitiesView.as_view(), name="opportunities"),
]
