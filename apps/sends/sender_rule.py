"""The gate's sender rule: marketing goes only from a sender whose carrier registration is
approved (10DLC campaign, toll-free verification, short code). Registered with the gate's
journey checks in SendsConfig.ready(), so it runs at creation and again at dispatch."""

from datetime import datetime

from apps.sends.models import Decision, MessageCategory
from apps.sends.policy import GateResult
from apps.sends.selectors.senders import sender_for_message


def sender_registration_check(message, at: datetime, store: dict | None = None):
    """Refuses marketing from an unregistered sender, in words; None lets it through."""
    if message.category != MessageCategory.MARKETING:
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
