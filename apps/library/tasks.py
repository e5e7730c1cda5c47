from celery import shared_task

from apps.library.services import notifications


@shared_task(name="library.version_submitted_notify")
def version_submitted_notify(version_id: int) -> None:
    """Asks the reviewers to review a submitted version."""
    notifications.version_submitted_notify(version_id=version_id)


@shared_task(name="library.version_decided_notify")
def version_decided_notify(approval_id: int) -> None:
    """Tells a version's author what a reviewer decided."""
    notifications.version_decided_notify(approval_id=approval_id)
