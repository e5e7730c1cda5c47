from datetime import datetime

from celery import shared_task

from apps.sends.services.dispatch import message_dispatch, messages_call, messages_dispatch
from apps.sends.services.inbound import inbound_reply_handle
from apps.sends.services.sweep import messages_sweep


@shared_task(name="sends.message_dispatch")
def message_dispatch_task(message_id: int) -> str:
    """Sends one queued message; safe to run twice (the claim lets one run through)."""
    return message_dispatch(message_id=message_id)


@shared_task(name="sends.messages_dispatch")
def messages_dispatch_task(message_ids: list[int]) -> dict[int, str]:
    """Sends a batch of queued messages; safe to run twice (each claim lets one run through)."""
    return messages_dispatch(message_ids=message_ids)


@shared_task(name="sends.messages_call")
def messages_call_task(slots: list[list], claimed_at: str) -> dict[int, str]:
    """Makes the calls a dispatch claimed and handed on ([message id, slot] pairs); safe to
    run twice (one conditional UPDATE lets one run through)."""
    return messages_call(
        slots={pk: datetime.fromisoformat(at) for pk, at in slots},
        claimed_at=datetime.fromisoformat(claimed_at),
    )


@shared_task(name="sends.messages_sweep")
def messages_sweep_task() -> dict:
    return messages_sweep()


@shared_task(name="sends.inbound_reply_handle")
def inbound_reply_handle_task(inbound_id: int) -> str | None:
    """Hands a stored reply on to routing and journeys; safe to run twice (claimed)."""
    return inbound_reply_handle(inbound_id=inbound_id)
