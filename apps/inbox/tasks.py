"""Thin Celery tasks of the inbox: each calls one service. Safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.inbox.services import replies_unfiled_file

# A text the reply hook failed to file is found by the next sweeps; a week bounds the scan.
SWEEP_LOOKBACK = timedelta(days=7)


@shared_task(name="inbox.replies_sweep")
def replies_sweep_task() -> int:
    """Files the texts whose inbox hook failed (the beat runs it every five minutes)."""
    return replies_unfiled_file(since=timezone.now() - SWEEP_LOOKBACK)
