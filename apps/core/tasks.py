from celery import shared_task
from django.utils import timezone

from apps.core.partitions import partitions_extend
from apps.core.services import heartbeat_record


@shared_task(name="core.heartbeat")
def heartbeat(name: str = "worker") -> None:
    """Proves a worker consumed from the broker and reached the database."""
    heartbeat_record(name=name)


@shared_task(name="core.partitions_extend")
def partitions_extend_task() -> list[str]:
    """The coming months' partitions, made ahead of the rows (PostgreSQL; daily)."""
    return partitions_extend(today=timezone.now().date())
