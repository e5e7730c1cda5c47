"""Picks the transport for a message: email, Twilio when configured, else the console."""

from django.conf import settings


def transport_for(message):
    from apps.sends.transports.console import ConsoleTransport
    from apps.sends.transports.email import EmailTransport
    from apps.sends.transports.twilio import TwilioTransport

    if message.channel == "email":
        return EmailTransport()
    if settings.TWILIO_ACCOUNT_SID:
        return TwilioTransport()
    return ConsoleTransport()
