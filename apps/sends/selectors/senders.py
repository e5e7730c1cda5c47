"""Which sender a text goes from, and at what rate: one answer for the gate, the transport
and pacing alike."""

from decimal import Decimal
from zlib import crc32

from apps.sends.models import OutboundMessage, Sender, SenderPool


def sender_for_message(message) -> Sender | None:
    """The sender chosen for the message when it was made, if still active; else chosen now."""
    chosen = message.from_sender if message.from_sender_id else None
    if chosen is not None and chosen.is_active:
        return chosen
    return sender_choose(to_address=message.to_address)


def sender_choose(
    *, to_address: str, sender: Sender | None = None, pool: SenderPool | None = None
) -> Sender | None:
    """The sender the number last heard from, so replies thread, unless it is gone; else
    the one a step names, or one of the pool it names; else the default sender. None when
    no sender is set up: the environment's (TWILIO_*) is used."""
    named = sender if sender is not None and sender.is_active else None
    pooled = sender_of_pool(pool=pool, to_address=to_address) if pool is not None else None
    return sender_last_heard(to_address=to_address) or named or pooled or sender_default()


def sender_last_heard(*, to_address: str) -> Sender | None:
    """The active sender of the newest text sent to this number (by the address recorded
    when it went out)."""
    last = (
        OutboundMessage.objects.filter(to_address=to_address, sent_at__isnull=False)
        .exclude(sender="")
        .order_by("-sent_at", "-pk")
        .values_list("sender", flat=True)
        .first()
    )
    if last is None:
        return None
    return Sender.objects.filter(address=last, is_active=True).select_related("program").first()


def sender_default() -> Sender | None:
    return Sender.objects.filter(is_default=True, is_active=True).select_related("program").first()


def sender_of_pool(*, pool: SenderPool, to_address: str) -> Sender | None:
    """The same active sender of the pool for the same number every time (until the
    number has one it last heard from, which wins)."""
    senders = list(pool.senders.filter(is_active=True).order_by("pk"))
    if not senders:
        return None
    return senders[crc32(to_address.encode()) % len(senders)]


def sender_for_address(address: str) -> Sender | None:
    """The sender a text came in on (Twilio's To), if it is one of ours."""
    return Sender.objects.filter(address=address).select_related("program").first()


def sender_mps(key: str) -> Decimal | None:
    """The rate of the sender whose address is this pacing key; None for the environment's."""
    return Sender.objects.filter(address=key).values_list("mps", flat=True).first()
