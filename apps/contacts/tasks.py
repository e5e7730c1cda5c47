from celery import shared_task

from apps.contacts import events, intent
from apps.contacts.opportunity_imports.run import opportunity_import_run as run_import


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


# A big file takes longer than the default two minutes; a run that is cut short resumes
# from its last committed chunk when it is handed out again.
@shared_task(name="contacts.opportunity_import_run", soft_time_limit=3600, time_limit=3660)
def opportunity_import_run(import_id: int) -> None:
    """Imports an opportunity CSV; safe to run twice (it resumes where it stopped)."""
    run_import(import_id=import_id)
