"""The send pipeline: gate decisions, and dispatch pacing against the fake Twilio server."""

import threading

from django.db import close_old_connections, connection
from django.test import override_settings

from apps.sends.models import OutboundMessage
from apps.sends.policy import gate_evaluate
from apps.sends.services.dispatch import message_dispatch
from apps.sends.testing.fake_twilio import FakeTwilio
from bench.generators import consent_generate, contacts_generate, messages_generate
from bench.harness import Figure, best_of, scaled

ACCOUNT, TOKEN = "AC" + "b" * 32, "bench-token"


def run() -> list[Figure]:
    return [_gate(), *_pacing()]


def _gate() -> Figure:
    count = scaled(100_000)
    contacts_generate(count)
    consent_generate(every=1)
    messages_generate(count)
    ids = list(OutboundMessage.objects.values_list("pk", flat=True))
    gated = best_of(lambda: _gate_all(ids), runs=1)
    reads = best_of(lambda: [OutboundMessage.objects.get(pk=pk) for pk in ids], runs=1)
    return Figure(
        f"gate decisions for {count} queued messages",
        gated,
        "s",
        "bare primary-key reads of the same rows",
        reads,
        target="report",
    )


def _gate_all(ids: list[int]) -> None:
    for start in range(0, len(ids), 1000):
        batch = OutboundMessage.objects.filter(pk__in=ids[start : start + 1000]).select_related(
            "contact", "contact__preference"
        )
        for message in batch:
            gate_evaluate(message=message, at=message.created_at)


def _pacing() -> list[Figure]:
    rate, count, workers = 25.0, max(40, scaled(400)), 4
    OutboundMessage.objects.update(status="sent")  # the gate scenario's messages are done with
    with FakeTwilio(ACCOUNT, TOKEN) as fake, _twilio_settings(fake, rate):
        _dispatch_in_threads(_queued_messages(count), workers)
        calls = [r for r in fake.requests if r.method == "POST"]
    # Steady state: each worker's first call also pays for opening its connection.
    times = sorted(r.received_at for r in calls)[workers:]
    achieved = (len(times) - 1) / (times[-1] - times[0]).total_seconds()
    bodies = [r.form.get("Body") for r in calls]
    duplicates = len(bodies) - len(set(bodies))
    return [
        Figure(
            f"achieved send rate, {count} messages, {workers} workers, configured {rate:g}/s "
            f"({len(calls)} provider calls, {duplicates} duplicates)",
            achieved,
            "msg/s",
            "the configured rate",
            rate,
            target="within 2 % (0.98–1.02x)",
        )
    ]


def _twilio_settings(fake: FakeTwilio, rate: float):
    return override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_API_BASE_URL=fake.base_url,
        TWILIO_MESSAGING_SERVICE_SID="MG" + "c" * 32,
        TWILIO_FROM_NUMBER="",
        CUE_SEND_RATES={"default": rate},
        CUE_QUIET_HOURS_DEFAULT=_all_day(),
    )


def _all_day():
    from datetime import time as clock

    return (clock(0), clock(23, 59, 59))


def _queued_messages(count: int) -> list[int]:
    from apps.sends.models import SenderPace

    SenderPace.objects.all().delete()
    start = OutboundMessage.objects.count()
    messages_generate(count, origin="notification", key_prefix="pace", status="queued")
    return list(
        OutboundMessage.objects.filter(send_key__startswith="pace-").values_list("pk", flat=True)
    )[: count + start]


def _dispatch_in_threads(ids: list[int], workers: int) -> None:
    chunks = [ids[i::workers] for i in range(workers)]

    def work(chunk):
        try:
            for pk in chunk:
                message_dispatch(message_id=pk)
        finally:
            close_old_connections()
            if connection.vendor != "sqlite":
                connection.close()

    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
