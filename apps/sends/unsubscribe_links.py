"""The one-click unsubscribe link of an email: a signed send key, so the link can be written
into the email's text and HTML when the message is made, before it has an id."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "cue.email-unsubscribe"


def unsubscribe_url(*, send_key: str) -> str:
    token = signing.dumps(send_key, salt=SALT)
    return f"{settings.PUBLIC_BASE_URL}{reverse('email-unsubscribe', args=[token])}"


def unsubscribe_lookup(token: str) -> dict | None:
    """How to find the message a token names ({"send_key": …}, or {"pk": …} for links
    signed before send keys were), or None for a forged or damaged token."""
    try:
        signed = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if isinstance(signed, str):
        return {"send_key": signed}
    return {"pk": signed} if isinstance(signed, int) else None
