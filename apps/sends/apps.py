from django.apps import AppConfig


class SendsConfig(AppConfig):
    """The policy gate, outbound messages, transports, dispatch and Twilio webhooks."""

    name = "apps.sends"
    label = "sends"
    verbose_name = "Sends"
