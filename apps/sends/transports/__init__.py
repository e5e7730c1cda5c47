"""Picks the transport for a message: email, Twilio when configured (from the message's
sender), else the console."""

from django.conf import settings


def transport_for(message):
    from apps.sends.transports.console import ConsoleTransport
    from apps.sends.transports.email import EmailTransport
    from apps.sends.transports.twilio import TwilioTransport

    if message.channel == "email":
        return EmailTransport()
    if settings.TWILIO_ACCOUNT_SID:
        from apps.sends.selectors.senders import sender_for_message

        return TwilioTransport(sender=sender_for_message(message))
    return ConsoleTransport()
