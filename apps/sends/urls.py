from django.urls import path

from apps.sends.links import link_redirect
from apps.sends.unsubscribe import email_unsubscribe_view
from apps.sends.webhooks.inbound import twilio_inbound
from apps.sends.webhooks.status import twilio_status

urlpatterns = [
    path("webhooks/twilio/status/", twilio_status, name="twilio-status"),
    path("webhooks/twilio/inbound/", twilio_inbound, name="twilio-inbound"),
    path("l/<str:token>", link_redirect, name="link-redirect"),
    path("unsubscribe/<str:token>/", email_unsubscribe_view, name="email-unsubscribe"),
]
