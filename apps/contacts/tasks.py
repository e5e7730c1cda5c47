from celery import shared_task

from apps.contacts import events, intent


@shared_task(name="contacts.events_hand_off")
def events_hand_off(event_ids: list[int]) -> int:
    """Hands stored events to the handlers higher apps registered."""
    return events.events_handle(event_ids=event_ids)


@shared_task(name="contacts.events_sweep")
def events_sweep() -> int:
    return events.events_unhandled_sweep()


@shared_task(name="contacts.intent_scores_recompute")
def intent_scores_recompute() -> int:
    """Lets intent fade with time for every contact (set-based)."""
    return intent.intent_scores_recompute()
