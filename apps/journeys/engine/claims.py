"""Claims: several workers (or a second beat by mistake) share due enrollments without
overlap. A claim is a conditional UPDATE that stamps a token and a lease; on PostgreSQL the
candidates are picked with SKIP LOCKED so claimers do not queue behind each other."""

import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.journeys.models import Enrollment, EnrollmentState

LEASE = timedelta(minutes=5)


def _claimable(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


@transaction.atomic
def enrollments_claim(*, limit: int = 500, now: datetime | None = None) -> str:
    """Claims up to `limit` due enrollments; returns the token that marks them."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    due = Enrollment.objects.filter(
        _claimable(now), state__in=EnrollmentState.running(), next_run_at__lte=now
    ).order_by("next_run_at")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    ids = list(due.values_list("pk", flat=True)[:limit])
    Enrollment.objects.filter(_claimable(now), pk__in=ids).update(
        claim_token=token, claimed_until=now + LEASE
    )
    return token


def enrollment_claim_one(*, enrollment_id: int, now: datetime | None = None) -> str | None:
    """Claims one enrollment if it is due and nobody holds it (for an immediate first step)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    won = Enrollment.objects.filter(
        _claimable(now),
        pk=enrollment_id,
        state__in=EnrollmentState.running(),
        next_run_at__lte=now,
    ).update(claim_token=token, claimed_until=now + LEASE)
    return token if won else None
