"""Thin Celery tasks of the consent app: they take ids and call one service."""

from celery import shared_task

from apps.consent import imports


# A big file takes longer than the default two minutes; a run that is cut short resumes
# from its last committed chunk when it is handed out again.
@shared_task(name="consent.contact_import_run", soft_time_limit=3600, time_limit=3660)
def contact_import_run(import_id: int) -> None:
    """Imports the rows of a mapped CSV upload; safe to run again."""
    imports.contact_import_run(import_id=import_id)
