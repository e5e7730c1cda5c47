from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView, AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView, PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView, SendGridTrackingWebhookView
from django.conf import settings
from django.urls import path

from apps.sends.links import link_redirect
from apps.sends.unsubscribe import email_unsubscribe_view
from apps.sends.webhooks.email import inbound_view_refusing_unparsable
from apps.sends.webhooks.inbound import twilio_inbound
from apps.sends.webhooks.status import twilio_status

urlpatterns = [
    path("webhooks/twilio/status/", twilio_status, name="twilio-status"),
    path("webhooks/twilio/inbound/", twilio_inbound, name="twilio-inbound"),
    path("l/<str:token>", link_redirect, name="link-redirect"),
    path("unsubscribe/<str:token>/", email_unsubscribe_view, name="email-unsubscribe"),
]

# anymail's own tracking webhook views, which verify each request (basic auth with
# ANYMAIL_WEBHOOK_SECRET, the ESP's signature where it signs). Mailgun's and Amazon SES's
# views need their keys (or boto3) to exist at all, so they are served only when named.
EMAIL_TRACKING_VIEWS = {
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "amazon_ses": AmazonSESTrackingWebhookView,
}
EMAIL_TRACKING_ALWAYS = ("postmark", "sendgrid")
urlpatterns += [
    path(f"webhooks/email/{esp}/tracking/", view.as_view(), name=f"email-tracking-{esp}")
    for esp, view in EMAIL_TRACKING_VIEWS.items()
    if esp in EMAIL_TRACKING_ALWAYS or esp == settings.ANYMAIL_ESP
]

# Their inbound webhooks (replies to Cue's emails), verified and served the same way.
EMAIL_INBOUND_VIEWS = {
    "postmark": PostmarkInboundWebhookView,
    "sendgrid": SendGridInboundWebhookView,
    "mailgun": MailgunInboundWebhookView,
    "amazon_ses": AmazonSESInboundWebhookView,
}
urlpatterns += [
    path(
        f"webhooks/email/{esp}/inbound/",
        inbound_view_refusing_unparsable(view).as_view(),
        name=f"email-inbound-{esp}",
    )
    for esp, view in EMAIL_INBOUND_VIEWS.items()
    if esp in EMAIL_TRACKING_ALWAYS or esp == settings.ANYMAIL_ESP
]
