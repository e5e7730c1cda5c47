from django.urls import path

from apps.consent import views

app_name = "optin"

urlpatterns = [
    path("<slug:slug>/", views.optin_form, name="form"),
    path("<slug:slug>/thanks/", views.optin_thanks, name="thanks"),
]
