from django.urls import path

from apps.accounts.two_factor import views

app_name = "two_factor"

urlpatterns = [
    path("", views.two_factor_status, name="status"),
    path("setup/", views.two_factor_setup, name="setup"),
    path("verify/", views.two_factor_verify, name="verify"),
    path("recovery-codes/", views.recovery_codes_renew, name="recovery-codes"),
    path("remove/", views.two_factor_remove, name="remove"),
]
