from django.urls import path

from apps.crm.views import hubspot_webhook

app_name = "crm"
urlpatterns = [path("hubspot/", hubspot_webhook, name="hubspot-webhook")]
