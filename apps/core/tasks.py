from celery import shared_task

from apps.core.services import heartbeat_record


@shared_task(name="core.heartbeat")
def heartbeat(name: str = "worker") -> None:
    """Proves a worker consumed from the broker and reached the database."""
    heartbeat_record(name=name)
