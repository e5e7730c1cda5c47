"""The inbound webhook: replies and STOPs over real HTTP vs the same POST to an empty view."""

import functools
import statistics

import requests
from django.test import override_settings
from twilio.request_validator import RequestValidator

from bench.generators import consent_generate, contacts_generate, messages_generate
from bench.harness import Figure, percentile, scaled, timed
from bench.http import wsgi_server

ACCOUNT, TOKEN = "AC" + "b" * 32, "bench-token"
BASE = "https://cue.example.com"
INBOUND, EMPTY = "/webhooks/twilio/inbound/", "/bench/empty/"


def run() -> list[Figure]:
    """Replies (stored, then handed on by a worker) and STOPs (opt-out, cancellation and
    confirmation in the request itself), from contacts with consent and queued messages."""
    count = scaled(100_000)
    contacts_generate(count)
    consent_generate(every=1)
    messages_generate(count)
    samples = max(100, scaled(2_000) // 2)
    stops = samples // 5
    with (
        override_settings(
            ROOT_URLCONF="bench.urls",
            TWILIO_AUTH_TOKEN=TOKEN,
            PUBLIC_BASE_URL=BASE,
            TWILIO_ACCOUNT_SID="",
            ALLOWED_HOSTS=["127.0.0.1", "testserver"],
        ),
        wsgi_server() as url,
    ):
        session = requests.Session()
        post = functools.partial(_post_inbound, session, url)
        post_empty = functools.partial(_post_inbound, session, url, path=EMPTY)
        for i in range(20):  # warm up both paths
            post(-i - 1, "Thanks, see you there")
            post_empty(-i - 1, "Thanks, see you there")
        replies = [timed(lambda i=i: post(i, "Thanks, see you there")) for i in range(samples)]
        empty = [timed(lambda i=i: post_empty(i, "Thanks, see you there")) for i in range(samples)]
        stopped = [timed(lambda i=i: post(samples + i, "STOP")) for i in range(stops)]
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
        percentile(times, 99) * 1000,
        "ms",
        f"the same POST to an empty view, p99 (p50 {statistics.median(empty) * 1000:.2f} ms)",
        percentile(empty, 99) * 1000,
        target=target,
    )


def _post_inbound(session, url: str, i: int, body: str, path=INBOUND) -> None:
    """A signed text as Twilio posts it, to the webhook or (the baseline) the empty view."""
    params = {
        "MessageSid": f"SMbench{i + 10**9:026d}",
        "AccountSid": ACCOUNT,
        "From": f"+1415{i % 10_000_000:07d}",
        "To": "+13125550000",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(f"{BASE}{path}", params)
    response = session.post(f"{url}{path}", data=params, headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
