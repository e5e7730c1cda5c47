"""Segment-entry journeys enroll every new member of their segment in one INSERT … SELECT:
a segment of 200k contacts is one statement, never a Python loop."""

import json
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from apps.journeys.models import Journey, JourneyStatus, ReentryPolicy, TriggerKind

# Matches apps.journeys.services.holdout_for: a stable, evenly spread draw per contact.
HOLDOUT_SQL = "((c.id * 2654435761 + %s * 40503) %% 100) < %s"


def segment_entries_enroll() -> int:
    journeys = Journey.objects.filter(
        status=JourneyStatus.ACTIVE,
        trigger_kind=TriggerKind.SEGMENT_ENTRY,
        entry_segment__isnull=False,
        first_step__isnull=False,
    ).select_related("entry_segment", "first_step")
    return sum(segment_enroll(journey=journey) for journey in journeys)


@transaction.atomic
def segment_enroll(*, journey: Journey) -> int:
    """Enrolls the segment's members who may (re-)enter; returns how many entered."""
    now = timezone.now()
    members_sql, members_params = (
        journey.entry_segment.contacts().values("id").query.sql_with_params()
    )
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    sql = f"""
        INSERT INTO journeys_enrollment (journey_id, contact_id, current_step_id, version_id,
            state, next_run_at, step_entered_at, visits, is_holdout, variants, claim_token,
            entered_at)
        SELECT %s, c.id, %s, %s, 'active', %s, %s, %s{jsonb}, {HOLDOUT_SQL}, %s{jsonb}, '', %s
        FROM ({members_sql}) c
        WHERE NOT EXISTS (
            SELECT 1 FROM journeys_enrollment e
            WHERE e.journey_id = %s AND e.contact_id = c.id AND ({_blocking_sql(journey)})
        )
    """
    params = [
        journey.pk,
        journey.first_step_id,
        journey.first_step.version_id,
        now,
        now,
        json.dumps({journey.first_step.key: 1}),
        journey.pk,
        journey.holdout_percent,
        "{}",
        now,
        *members_params,
        journey.pk,
        *_blocking_params(journey, now),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        entered = cursor.rowcount
        _entries_log(cursor, journey, now)
    return entered


def _blocking_sql(journey: Journey) -> str:
    if journey.reentry == ReentryPolicy.NEVER:
        return "1 = 1"
    return "e.state IN ('active', 'waiting') OR COALESCE(e.finished_at, e.entered_at) > %s"


def _blocking_params(journey: Journey, now) -> list:
    if journey.reentry == ReentryPolicy.NEVER:
        return []
    return [now - timedelta(days=journey.reentry_days or 0)]


def _entries_log(cursor, journey: Journey, now) -> None:
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    cursor.execute(
        f"""
        INSERT INTO journeys_activity (enrollment_id, at, kind, step_key, reason, detail)
        SELECT id, %s, 'entered', %s, 'Entered on segment entry.', %s{jsonb}
        FROM journeys_enrollment WHERE journey_id = %s AND entered_at = %s
        """,
        [now, journey.first_step.key, "{}", journey.pk, now],
    )
