"""The gate's sender rule: marketing texts go only from a sender whose carrier registration
is approved (10DLC campaign, toll-free verification, short code). Registered with the gate
in SendsConfig.ready() for every origin a marketing text could have (journeys, and any
other message made as marketing: a rep's, an API's, a test's), so it runs at creation and
again at dispatch whoever made the message."""

from datetime import datetime

from apps.consent.models import Channel
from apps.sends.models import Decision, MessageCategory, MessageOrigin
from apps.sends.policy import GateResult
from apps.sends.selectors.senders import sender_for_message

# A keyword's answer (a STOP confirmation) must reach the number whatever the sender.
SENDER_RULE_ORIGINS = tuple(
    origin for origin in MessageOrigin.values if origin != MessageOrigin.KEYWORD_REPLY
)


def sender_registration_check(message, at: datetime, store: dict | None = None):
    """Refuses a marketing text from an unregistered sender, in words; None lets it through
    (an email has no Twilio sender to register)."""
    if message.category != MessageCategory.MARKETING or message.channel != Channel.SMS:
        return None
    sender = sender_for_message(message)
    refusal = sender.marketing_refusal() if sender is not None else ""
    if not refusal:
        return None
    return GateResult(
        Decision.SUPPRESS,
        "sender_unregistered",
        refusal,
        inputs={"sender_id": sender.pk, "registration": sender.registration},
    )
