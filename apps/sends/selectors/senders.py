"""Which sender a text goes from, and at what rate: one answer for the gate, the transport
and pacing alike."""

from decimal import Decimal
from zlib import crc32

from django.db.models import Q

from apps.sends.models import OutboundMessage, Sender, SenderPool
from apps.sends.senders import SenderKind


def sender_for_message(message) -> Sender | None:
    """The sender chosen for the message when it was made, if still active; else chosen now."""
    chosen = message.from_sender if message.from_sender_id else None
    if chosen is not None and chosen.is_active:
        return chosen
    return sender_choose(to_address=message.to_address)


def sender_choose(
    *, to_address: str, sender: Sender | None = None, pool: SenderPool | None = None
) -> Sender | None:
    """The sender a step names, if it is active: naming one is explicit, so it wins over
    the number's history. Otherwise the sender the number last heard from, so replies
    thread, unless it is gone; else one of the pool the step names (always the same one for
    a number); else the default sender. None when no sender is set up: the environment's
    (TWILIO_*) is used."""
    return senders_choose(to_addresses=[to_address], sender=sender, pool=pool)[to_address]


def senders_choose(
    *, to_addresses: list[str], sender: Sender | None = None, pool: SenderPool | None = None
) -> dict[str, Sender | None]:
    """sender_choose for many numbers, by number, in a query or two whatever their count."""
    named = sender if sender is not None and sender.is_active else None
    if named is not None:
        return dict.fromkeys(to_addresses, named)
    heard = senders_last_heard(to_addresses=to_addresses)
    pooled = _pool_senders(pool) if pool is not None else []
    default = None
    if len(heard) < len(set(to_addresses)) and not pooled:
        default = sender_default()
    return {
        address: heard.get(address) or _of_pool(pooled, address) or default
        for address in to_addresses
    }


def senders_last_heard(*, to_addresses: list[str]) -> dict[str, Sender]:
    """The active sender of the newest text sent to each number (by the address recorded
    when it went out), by number; a number whose newest sender is gone is left out."""
    if not to_addresses:
        return {}
    newest: dict[str, str] = {}
    sent = (
        OutboundMessage.objects.filter(to_address__in=set(to_addresses), sent_at__isnull=False)
        .exclude(sender="")
        .order_by("to_address", "-sent_at", "-pk")
        .values_list("to_address", "sender")
    )
    for address, sender_address in sent:
        newest.setdefault(address, sender_address)
    if not newest:
        return {}
    active = Sender.objects.filter(address__in=set(newest.values()), is_active=True)
    by_address = {row.address: row for row in active.select_related("program")}
    return {number: by_address[used] for number, used in newest.items() if used in by_address}


def sender_default() -> Sender | None:
    return Sender.objects.filter(is_default=True, is_active=True).select_related("program").first()


def _pool_senders(pool: SenderPool) -> list[Sender]:
    return list(pool.senders.filter(is_active=True).select_related("program").order_by("pk"))


def _of_pool(senders: list[Sender], to_address: str) -> Sender | None:
    if not senders:
        return None
    return senders[crc32(to_address.encode()) % len(senders)]


def sender_for_inbound(*, to_address: str, messaging_service_sid: str = "") -> Sender | None:
    """The sender a text came in on: the row of its number (Twilio's To), else, for a number
    that is one of a Messaging Service's, the service's row (its MessagingServiceSid), so
    that the service's keywords and HELP answer and the reply goes from the service."""
    wanted = Q(address=to_address)
    if messaging_service_sid:
        wanted |= Q(address=messaging_service_sid, kind=SenderKind.MESSAGING_SERVICE)
    found = {row.address: row for row in Sender.objects.filter(wanted).select_related("program")}
    return found.get(to_address) or found.get(messaging_service_sid)


def sender_mps(key: str) -> Decimal | None:
    """The rate of the sender whose address is this pacing key; None for the environment's."""
    return Sender.objects.filter(address=key).values_list("mps", flat=True).first()
