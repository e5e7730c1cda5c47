"""The journeys engine: segment entry, advancing due enrollments, and an event's way to its
first message as the number of journeys grows."""

import json
import statistics
import time
from datetime import UTC, datetime

from django.db import connection, transaction

from apps.contacts.events import events_handle, record_event
from apps.contacts.models import Contact, Segment
from apps.journeys import services as journey_services
from apps.journeys.engine.advance import enrollment_advance_now, enrollments_advance_due
from apps.journeys.models import Journey, JourneyStatus, Step
from apps.journeys.segment_entry import HOLDOUT_SQL, segment_enroll
from apps.sends.models import OutboundMessage
from bench.generators import (
    consent_generate,
    contact_id_range,
    contacts_generate,
    enrollments_generate,
    table_clear,
)
from bench.harness import Figure, best_of, percentile, scaled
from bench.journey_worlds import journey_make, sms_template_approved

ENTRY_STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer"]  # not churned
BATCH = 500


def run() -> list[Figure]:
    return [_segment_entry(), _advance(), *_first_send_latency()]


# --- (a) segment entry -------------------------------------------------------------------


def _segment_entry() -> Figure:
    members = scaled(200_000)
    contacts_generate(members * 7 // 6 + 7)  # one stage in seven (churned) stays out
    segment = Segment.objects.create(
        name="Not churned",
        rules={"all": [{"field": "lifecycle_stage", "op": "in", "value": ENTRY_STAGES}]},
    )
    journey = journey_make("Segment entry", trigger_kind="segment_entry", entry_segment=segment)
    _analyze()
    entered = segment_enroll(journey=journey)
    enroll = best_of(lambda: segment_enroll(journey=journey), runs=3, setup=_enrollments_clear)
    raw = best_of(lambda: _raw_enroll(journey), runs=3, setup=_enrollments_clear)
    _enrollments_clear()
    return Figure(
        f"enroll {entered} segment members (segment_enroll, with the entry log)",
        enroll,
        "s",
        "raw INSERT … SELECT of the same contacts",
        raw,
        target="≤ 3x raw",
    )


def _raw_enroll(journey: Journey) -> None:
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    stages = ", ".join(["%s"] * len(ENTRY_STAGES))
    visits = json.dumps({journey.first_step.key: 1})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO journeys_enrollment (journey_id, contact_id, current_step_id, state,
                next_run_at, step_entered_at, visits, is_holdout, variants, claim_token,
                entered_at)
            SELECT %s, c.id, %s, 'active', %s, %s, %s{jsonb}, {HOLDOUT_SQL}, %s{jsonb}, '', %s
            FROM contacts_contact c WHERE c.lifecycle_stage IN ({stages})
            """,
            [
                *(journey.pk, journey.first_step_id, now, now, visits),
                *(journey.pk, journey.holdout_percent, "{}", now, *ENTRY_STAGES),
            ],
        )


def _enrollments_clear() -> None:
    table_clear("journeys_activity")
    table_clear("journeys_enrollment")


# --- (b) advancing due enrollments -------------------------------------------------------


def _advance() -> Figure:
    count = scaled(100_000)
    low, high = contact_id_range()
    if high - low + 1 < count:
        contacts_generate(count - (high - low + 1), start=high + 1)
    journey = journey_make(
        "Advance",
        steps=[("pause", "wait", {"days": 1, "next": "done"}), ("done", "exit", {})],
    )
    pause = journey.steps.get(key="pause")

    def due() -> None:
        _enrollments_clear()
        enrollments_generate(count, journey_id=journey.pk, step_id=pause.pk, step_key="pause")
        _analyze()

    engine = best_of(lambda: _advance_all(count), runs=1, setup=due)
    done = journey.steps.get(key="done")
    bare = best_of(lambda: _bare_update(journey, done), runs=3, setup=due)
    _enrollments_clear()
    return Figure(
        f"advance {count} due enrollments through an elapsed wait to an exit "
        f"(enrollments_advance_due, batches of {BATCH}; "
        f"{engine / count * 1e3:.2f} ms each)",
        engine,
        "s",
        "one bare UPDATE of the same rows",
        bare,
        target="report",
    )


def _advance_all(count: int) -> None:
    advanced = 0
    while batch := enrollments_advance_due(limit=BATCH):
        advanced += batch
    if advanced != count:
        raise RuntimeError(f"advanced {advanced} of {count} enrollments")


def _bare_update(journey: Journey, done: Step) -> None:
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE journeys_enrollment SET state = 'completed', current_step_id = %s, "
            "step_entered_at = %s, finished_at = %s, next_run_at = NULL WHERE journey_id = %s",
            [done.pk, now, now, journey.pk],
        )


# --- (c) event → enrollment → first message ----------------------------------------------


def _first_send_latency() -> list[Figure]:
    samples = max(40, scaled(4_000))
    table_clear("journeys_activity")
    table_clear("journeys_enrollment")
    low, high = contact_id_range()
    if high - low + 1 < 2 * samples + 100:
        contacts_generate(2 * samples + 100, start=high + 1)
    consent_generate(every=1)
    journey = journey_make("Signed up", trigger_event_type="bench_signup", steps=_welcome_steps(0))
    others = [
        journey_make(f"Other {i}", trigger_event_type=f"bench_other_{i}", steps=_welcome_steps(i))
        for i in range(1, 100)
    ]
    _analyze()
    contacts = iter(Contact.objects.order_by("id").values_list("pk", flat=True))
    timings: dict[int, list[float]] = {1: [], 100: []}
    original = journey_services._advance_soon
    # The first step runs inline, as the worker that takes the hand-off would run it.
    journey_services._advance_soon = lambda pk: enrollment_advance_now(enrollment_id=pk)
    try:
        for block in range(2 * samples // 20 + 2):  # alternating blocks of 20: 1, 100, 1, …
            active = 100 if block % 2 else 1
            status = JourneyStatus.ACTIVE if active == 100 else JourneyStatus.PAUSED
            Journey.objects.filter(pk__in=[o.pk for o in others]).update(status=status)
            for _ in range(20):
                timings[active].append(_event_to_message(journey, next(contacts)))
    finally:
        journey_services._advance_soon = original
    for values in timings.values():
        del values[:20]  # the first block of each warms caches
    return [
        _latency_figure(timings, "p50", statistics.median),
        _latency_figure(timings, "p99", lambda values: percentile(values, 99)),
    ]


def _welcome_steps(i: int) -> list[tuple[str, str, dict]]:
    template = sms_template_approved(f"Welcome {i}")
    return [
        ("welcome", "send_sms", {"template": template.pk, "next": "pause"}),
        ("pause", "wait", {"days": 1, "next": "done"}),
        ("done", "exit", {}),
    ]


def _event_to_message(journey: Journey, contact_id: int) -> float:
    started = time.perf_counter()
    recorded = record_event(
        contact=Contact(pk=contact_id),
        type="bench_signup",
        occurred_at=datetime.now(UTC),
        idempotency_key=f"signup-{contact_id}",
        properties={"form": "trial"},
    )
    events_handle(event_ids=[recorded.event_id])
    elapsed = time.perf_counter() - started
    if not OutboundMessage.objects.filter(journey_id=journey.pk, contact_id=contact_id).exists():
        raise RuntimeError(f"contact {contact_id} got no message from {journey}")
    return elapsed


def _latency_figure(timings: dict[int, list[float]], name: str, measure) -> Figure:
    many, one = measure(timings[100]) * 1e3, measure(timings[1]) * 1e3
    return Figure(
        f"event → enrollment → first message, {name} over {len(timings[100])} events "
        "with 100 active journeys (one matches)",
        many,
        "ms",
        f"the same with 1 active journey ({len(timings[1])} events)",
        one,
        target="≤ 1.25x (flat in journeys the event does not match)",
    )


# --- shared ------------------------------------------------------------------------------


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
