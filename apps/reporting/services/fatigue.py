"""The fatigue guard: a journey whose messages wear people out is paused by the system,
its owner and the approvers are told, and the reason is kept with the journey's history."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import APPROVER
from apps.accounts.services import system_user
from apps.journeys.models import Journey, JourneyStatus
from apps.library.models import MessageTemplate
from apps.reporting.fatigue import FatigueStat, fatigue_stats
from apps.reporting.models import FatigueBreach, FatigueMetric, FatigueSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    stat: FatigueStat
    metric: str
    hits: int
    rate: Decimal
    limit: Decimal


def fatigue_guard_run(*, now: datetime | None = None) -> list[FatigueBreach]:
    """Checks every active journey and template over the rolling window; pauses each
    journey with a breach once. Returns the breaches recorded by this run."""
    rules = FatigueSettings.current()
    if not rules.is_enabled:
        return []
    now = now or timezone.now()
    start = now - timedelta(hours=rules.window_hours)
    active = list(Journey.objects.filter(status=JourneyStatus.ACTIVE).values_list("pk", flat=True))
    if not active:
        return []
    by_journey: dict[int, list[Candidate]] = {}
    for candidate in _candidates(rules, start, now, active):
        by_journey.setdefault(candidate.stat.journey_id, []).append(candidate)
    recorded = []
    for journey_id, candidates in by_journey.items():
        recorded += _journey_pause(journey_id, candidates, rules, now)
    return recorded


def _candidates(rules: FatigueSettings, start, now, active: list[int]) -> list[Candidate]:
    """Breaches, each judged only on messages after the last breach of the same kind."""
    previous = _last_breaches(start)
    found = []
    for stat in fatigue_stats(start=start, end=now, journey_ids=active):
        for metric, limit in (
            (FatigueMetric.OPT_OUT_RATE, rules.opt_out_percent_limit),
            (FatigueMetric.FAILURE_RATE, rules.failure_percent_limit),
        ):
            since = previous.get((stat.journey_id, stat.template_id, metric))
            judged = stat if since is None else _stat_since(stat, since, now)
            if judged is None or judged.messages < rules.min_messages:
                continue
            hits = judged.opt_outs if metric == FatigueMetric.OPT_OUT_RATE else judged.failures
            rate = _percent(hits, judged.messages)
            if rate >= limit:
                found.append(Candidate(judged, metric, hits, rate, limit))
    return found


def _last_breaches(start) -> dict[tuple, datetime]:
    rows = FatigueBreach.objects.filter(detected_at__gt=start).order_by("detected_at")
    return {(b.journey_id, b.template_id, b.metric): b.detected_at for b in rows}


def _stat_since(stat: FatigueStat, since: datetime, now: datetime) -> FatigueStat | None:
    stats = fatigue_stats(
        start=since, end=now, journey_ids=[stat.journey_id], template_id=stat.template_id
    )
    return stats[0] if stats else None


def _percent(hits: int, total: int) -> Decimal:
    return (Decimal(hits) * 100 / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@transaction.atomic
def _journey_pause(
    journey_id: int, candidates: list[Candidate], rules: FatigueSettings, now: datetime
) -> list[FatigueBreach]:
    journey = Journey.objects.select_for_update().filter(pk=journey_id).first()
    if journey is None or journey.status != JourneyStatus.ACTIVE:
        return []  # paused meanwhile, by a person or another run of the guard
    templates = MessageTemplate.objects.in_bulk({c.stat.template_id for c in candidates})
    recorded = (
        _breach_record(journey, templates[c.stat.template_id], c, rules, now) for c in candidates
    )
    breaches = [breach for breach in recorded if breach is not None]
    if not breaches:
        return []
    journey.status = JourneyStatus.PAUSED
    journey._history_user = system_user()
    first = breaches[0]
    journey._change_reason = (
        f"Paused by the fatigue guard: {first.get_metric_display().lower()} {first.rate_percent}% "
        f"≥ {first.limit_percent}% (FatigueBreach #{first.pk})"
    )[:100]
    journey.save()
    ids = [breach.pk for breach in breaches]
    FatigueBreach.objects.filter(pk__in=ids).update(journey_paused=True)
    for breach in breaches:
        breach.journey_paused = True
    transaction.on_commit(lambda: fatigue_pause_notify(breach_ids=ids))
    return breaches


def _breach_record(journey, template, candidate: Candidate, rules, now) -> FatigueBreach | None:
    """The breach, once: the unique (journey, template, metric, window start) decides."""
    what = "opt-out" if candidate.metric == FatigueMetric.OPT_OUT_RATE else "failure"
    reason = (
        f"{what} rate {candidate.rate}% ({candidate.hits} of {candidate.stat.messages}) for "
        f"“{template.name}” over {rules.window_hours} h reached the {candidate.limit}% limit"
    )
    try:
        with transaction.atomic():
            return FatigueBreach.objects.create(
                journey=journey,
                template=template,
                metric=candidate.metric,
                window_start=candidate.stat.start,
                detected_at=now,
                messages=candidate.stat.messages,
                hits=candidate.hits,
                rate_percent=candidate.rate,
                limit_percent=candidate.limit,
                reason=reason[:300],
            )
    except IntegrityError:
        return None


def fatigue_pause_notify(*, breach_ids: list[int]) -> int:
    """Emails the journey's owner and every approver why the guard paused it."""
    breaches = list(
        FatigueBreach.objects.filter(pk__in=breach_ids).select_related("journey__owner")
    )
    if not breaches:
        return 0
    journey = breaches[0].journey
    recipients = _recipients(journey)
    if not recipients:
        return 0
    url = settings.PUBLIC_BASE_URL + reverse("admin:journeys_journey_change", args=[journey.pk])
    lines = [f"- {breach.reason}" for breach in breaches]
    body = (
        f"The fatigue guard paused the journey “{journey.name}”:\n\n"
        + "\n".join(lines)
        + "\n\nNo more of its messages go out until an approver activates it again. Review the "
        f"templates and timing first:\n{url}\n"
    )
    subject = f"Cue paused “{journey.name}”: {breaches[0].get_metric_display().lower()}"
    return send_mail(subject[:200], body, None, recipients)


def _recipients(journey: Journey) -> list[str]:
    approvers = (
        get_user_model()
        .objects.filter(groups__name=APPROVER, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    emails = list(approvers)
    if journey.owner and journey.owner.email and journey.owner.is_active:
        emails.insert(0, journey.owner.email)
    return list(dict.fromkeys(emails))
