"""Intent score: the sum of event weights, each fading by its half-life, banded by thresholds.

Computed in SQL over every affected contact at once — never per row in Python.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.contacts.models import Event, IntentBand

LOOKBACK = timedelta(days=365)

_AGE_IN_DAYS = {
    "postgresql": "EXTRACT(EPOCH FROM (%(now)s - e.occurred_at)) / 86400.0",
    "sqlite": "(julianday(%(now)s) - julianday(e.occurred_at))",
}

_SCORE_SQL = """
UPDATE contacts_contact SET intent_score = COALESCE((
    SELECT ROUND(CAST(SUM(w.weight * POWER(0.5, {age} / w.half_life_days)) AS NUMERIC), 3)
    FROM contacts_event e JOIN contacts_eventweight w ON w.type = e.type
    WHERE e.contact_id = contacts_contact.id
      AND e.occurred_at >= %(since)s AND e.occurred_at <= %(now)s
), 0)
WHERE {where}
"""

_BAND_SQL = """
UPDATE contacts_contact SET intent_band = CASE
    WHEN intent_score >= %(high)s THEN %(band_high)s
    WHEN intent_score >= %(medium)s THEN %(band_medium)s
    ELSE %(band_low)s END
WHERE {where} AND intent_band <> CASE
    WHEN intent_score >= %(high)s THEN %(band_high)s
    WHEN intent_score >= %(medium)s THEN %(band_medium)s
    ELSE %(band_low)s END
"""


def intent_thresholds() -> tuple[float, float]:
    return settings.INTENT_HIGH_SCORE, settings.INTENT_MEDIUM_SCORE


@transaction.atomic
def intent_scores_recompute(*, contact_ids: list[int] | None = None) -> int:
    """Rescores the given contacts, or every contact with recent events or a score to fade."""
    now = timezone.now()
    params = {"now": now, "since": now - LOOKBACK}
    if contact_ids is None:
        where = (
            "id IN (SELECT contact_id FROM contacts_event WHERE occurred_at >= %(since)s)"
            " OR intent_score <> 0"
        )
    else:
        if not contact_ids:
            return 0
        where = f"id IN ({', '.join(str(int(pk)) for pk in contact_ids)})"
    age = _AGE_IN_DAYS[connection.vendor] % {"now": "%(now)s"}
    high, medium = intent_thresholds()
    with connection.cursor() as cursor:
        cursor.execute(_SCORE_SQL.format(age=age, where=where), params)
        scored = cursor.rowcount
        cursor.execute(
            _BAND_SQL.format(where="1 = 1" if contact_ids is None else where),
            {
                **params,
                "high": high,
                "medium": medium,
                "band_high": IntentBand.HIGH,
                "band_medium": IntentBand.MEDIUM,
                "band_low": IntentBand.LOW,
            },
        )
    return scored


def intent_on_events(events: list[Event]) -> None:
    """Contacts' own first step of the event hand-off (before any registered handler, all
    of which may read the scores): rescore the contacts these events belong to."""
    intent_scores_recompute(contact_ids=sorted({event.contact_id for event in events}))


def intent_band_for(score: float) -> str:
    high, medium = intent_thresholds()
    if score >= high:
        return IntentBand.HIGH
    return IntentBand.MEDIUM if score >= medium else IntentBand.LOW
