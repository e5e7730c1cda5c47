"""The send pipeline: gate decisions, dispatch pacing against the fake Twilio server, and
the inbound webhook's response time."""

import functools
import statistics
import threading
import time

import requests
from django.db import close_old_connections, connection
from django.test import override_settings
from twilio.request_validator import RequestValidator

from apps.sends.models import OutboundMessage
from apps.sends.policy import gate_evaluate
from apps.sends.services.dispatch import message_dispatch
from apps.sends.testing.fake_twilio import FakeTwilio
from bench.generators import consent_generate, contacts_generate, messages_generate
from bench.harness import Figure, best_of, scaled
from bench.http import wsgi_server

ACCOUNT, TOKEN = "AC" + "b" * 32, "bench-token"


def run() -> list[Figure]:
    return [_gate(), *_pacing(), *_inbound()]


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


def _inbound() -> list[Figure]:
    """Replies (stored, then handed on by a worker) and STOPs (opt-out, cancellation and
    confirmation in the request itself), each against an empty view in the same run."""
    samples = max(100, scaled(2_000) // 2)
    stops = samples // 5
    base = "https://cue.example.com"
    with (
        override_settings(
            ROOT_URLCONF="bench.urls",
            TWILIO_AUTH_TOKEN=TOKEN,
            PUBLIC_BASE_URL=base,
            TWILIO_ACCOUNT_SID="",
            ALLOWED_HOSTS=["127.0.0.1", "testserver"],
        ),
        wsgi_server() as url,
    ):
        session = requests.Session()
        post = functools.partial(_post_inbound, session, url, base)
        for i in range(20):  # warm up both paths
            post(-i - 1, "Thanks, see you there")
            session.get(f"{url}/bench/empty/")
        replies = [_timed(lambda i=i: post(i, "Thanks, see you there")) for i in range(samples)]
        empty = [_timed(lambda: session.get(f"{url}/bench/empty/")) for _ in range(samples)]
        stopped = [_timed(lambda i=i: post(samples + i, "STOP")) for i in range(stops)]
    return [
        _webhook_figure(f"inbound webhook p99 over {samples} replies, real HTTP", replies, empty),
        _webhook_figure(
            f"inbound STOP webhook p99 over {stops} opt-outs applied in the request, real HTTP",
            stopped,
            empty,
            target="report",
        ),
    ]


def _webhook_figure(name: str, times: list[float], empty: list[float], target="≤ 3x") -> Figure:
    return Figure(
        f"{name} (p50 {statistics.median(times) * 1000:.2f} ms)",
        _percentile(times, 99) * 1000,
        "ms",
        f"an empty view's p99 (p50 {statistics.median(empty) * 1000:.2f} ms)",
        _percentile(empty, 99) * 1000,
        target=target,
    )


def _post_inbound(session, url: str, base: str, i: int, body: str) -> None:
    params = {
        "MessageSid": f"SMbench{i + 10**9:026d}",
        "AccountSid": ACCOUNT,
        "From": f"+1415{i % 10_000_000:07d}",
        "To": "+13125550000",
        "Body": body,
        "NumMedia": "0",
    }
    path = "/webhooks/twilio/inbound/"
    signature = RequestValidator(TOKEN).compute_signature(f"{base}{path}", params)
    response = session.post(f"{url}{path}", data=params, headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        raise RuntimeError(f"inbound webhook answered {response.status_code}")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]
