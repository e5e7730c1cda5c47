"""A campaign end to end: N opted-in contacts enter a one-text journey, and real Celery workers
(2 processes, then 4) and beat decide and send every message through the fake Twilio.

As the Procfile runs them, there is a worker per queue (intake, engine, dispatch,
housekeeping), with the project's task time limits; the engine's and dispatch's each have
2 pool processes in the first run and 4 in the second (intake and housekeeping 1). They
share a Redis broker (BENCH_REDIS_URL, else the configured one if it
is Redis) or, failing that, the filesystem transport in a folder of the run's own; beat runs
the project's periodic tasks from the database scheduler. The fake Twilio answers at once
from a process of its own and never calls back, so "delivered" here is "accepted by the
provider" (status sent, with its provider id). Pacing is out of the way: the default sender
allows 99,999 messages a second. The contacts are in a zone where it is midday now.

Each figure has a floor measured in the same run: the set-based SQL that makes the same
messages (one INSERT … SELECT with the consent and suppression joins), and the twilio client
itself sending as many messages with the same number of processes against the same fake.
CPU comes from /proc: the workers' and beat's processes, and the PostgreSQL backends of the
bench database (sampled every half second; a backend that ends between two samples loses
at most that half second). Each run also prints, to read the figures by, the CPU of each
part, how many advance runs overlapped, and how far the sends trailed their decisions.

BENCH_SCALE=1 is N = 100,000 (the client floor stays at CLIENT_FLOOR_MAX calls, a rate)."""

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q

from apps.contacts.models import Contact, Segment
from apps.core.schedules import PREFIX, periodic_tasks_sync
from apps.journeys.models import Journey, TriggerKind
from apps.journeys.segment_entry import segment_enroll
from apps.sends.models import MessageStatus, OutboundMessage, Sender
from apps.sends.senders import Registration, SenderKind
from apps.sends.testing.fake_twilio import FakeTwilio
from apps.sends.transports.http import twilio_client_build
from apps.sends.transports.twilio import SEND_THREADS
from bench.fake_process import FakeProcess
from bench.generators import consent_generate, contacts_generate, table_clear
from bench.harness import BENCH_DIR, Figure, scaled
from bench.journey_worlds import journey_make, sms_template_approved

ACCOUNT, TOKEN = "AC" + "e" * 32, "bench-campaign-token"
SERVICE_SID = "MG" + "e" * 32
PROCESS_COUNTS = (2, 4)
# Pool processes of each queue's worker; None: the run's process count.
QUEUE_PROCESSES = {"intake": 1, "engine": None, "dispatch": None, "housekeeping": 1}
UNPACED_MPS = Decimal("99999")  # the most a sender's rate can hold: pacing never waits
STALL_SECONDS = 180  # no message decided or sent for this long: the run has stopped
CLIENT_FLOOR_MAX = 20_000  # calls of the client floor (a rate: more would only take longer)
CPU_TARGET_MS = 5.0
ROOT = BENCH_DIR.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TIME_LIMIT_LINE = re.compile(r"(Soft|Hard) time limit \(")


@dataclass(frozen=True)
class CampaignRun:
    """What one run with `processes` engine and dispatch processes measured, with its
    floors."""

    processes: int
    entered: int
    decided: int
    accepted: int
    first_decided_s: float  # from enrollment to the first message
    decided_s: float  # from enrollment to the last message decided
    accepted_s: float  # first to last acceptance by the fake
    end_to_end_s: float  # from enrollment to the last acceptance
    cpu_s: float  # workers, beat and database backends
    provider_calls: int
    duplicate_calls: int
    time_limit_hits: int
    refused: dict
    sql_floor_s: float
    sql_floor_cpu_s: float
    client_floor_calls: int
    client_floor_s: float
    client_floor_cpu_s: float


def run() -> list[Figure]:
    count = scaled(100_000)
    journey = _world(count)
    runs = []
    with FakeProcess(_fake_start) as fake:
        for processes in PROCESS_COUNTS:
            _campaign_clear()
            runs.append(_campaign(journey, count, processes, fake))
    figures = [figure for run in runs for figure in _figures(run)]
    two, four = runs
    figures.append(
        Figure(
            f"end to end with {four.processes} engine and {four.processes} dispatch processes "
            f"({four.entered / four.end_to_end_s:.0f} contacts/s)",
            four.end_to_end_s,
            "s",
            f"the same with {two.processes} ({two.entered / two.end_to_end_s:.0f} contacts/s)",
            two.end_to_end_s,
            target="≤ 1.00x (throughput not lower)",
        )
    )
    return figures


def _figures(run: CampaignRun) -> list[Figure]:
    n, p = run.entered, f"{run.processes} engine and {run.processes} dispatch processes"
    floor_cpu_ms = (run.sql_floor_cpu_s + run.client_floor_cpu_s / run.client_floor_calls * n) / n
    client_floor_s = run.client_floor_s / run.client_floor_calls * n
    refused = ", ".join(f"{count} {status}" for status, count in sorted(run.refused.items()))
    return [
        Figure(
            f"{p}: {n} messages decided, enrolled → message with its decision "
            f"({n / run.decided_s:.0f}/s; the first after {run.first_decided_s:.1f} s)",
            run.decided_s,
            "s",
            "one INSERT … SELECT with the consent and suppression joins",
            run.sql_floor_s,
            target="≤ 5x",
        ),
        Figure(
            f"{p}: {run.accepted} messages accepted by the fake Twilio, first to last "
            f"({run.accepted / run.accepted_s:.0f}/s)",
            run.accepted_s,
            "s",
            f"the twilio client alone, {run.processes} processes × {SEND_THREADS} threads "
            f"({n / client_floor_s:.0f}/s, {run.client_floor_calls} calls scaled to {n})",
            client_floor_s,
            target="≤ 3x",
        ),
        Figure(
            f"{p}: CPU per contact end to end (workers, beat and database)",
            run.cpu_s / n * 1e3,
            "ms",
            "the two floors' CPU (database backend of the INSERT, client processes)",
            floor_cpu_ms * 1e3,
            target=f"≤ {CPU_TARGET_MS:g} ms per contact (was ~50)",
        ),
        Figure(
            f"{p}: messages accepted of {n} enrolled ({run.provider_calls} provider "
            f"calls, {run.duplicate_calls} duplicate, {run.time_limit_hits} time-limit hits"
            f"{'; refused: ' + refused if refused else ''})",
            run.accepted,
            "messages",
            "contacts enrolled",
            n,
            target="1.00x, 0 duplicates, 0 time-limit hits",
        ),
    ]


# --- the world ---------------------------------------------------------------------------


def _world(count: int) -> Journey:
    """N leads with marketing SMS consent, where it is midday now; an unpaced default
    sender; an approved template; a segment-entry journey with one text step."""
    contacts_generate(count)
    Contact.objects.update(time_zone=_midday_zone(), lifecycle_stage="lead")
    consent_generate(every=1)
    Sender.objects.filter(is_default=True).update(is_default=False)
    Sender.objects.create(
        name="Bench messaging service",
        kind=SenderKind.MESSAGING_SERVICE,
        address=SERVICE_SID,
        registration=Registration.CAMPAIGN_APPROVED,
        mps=UNPACED_MPS,
        is_default=True,
    )
    template = sms_template_approved("Campaign")
    segment = Segment.objects.create(
        name="Campaign leads",
        rules={"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead"]}]},
    )
    periodic_tasks_sync()
    _analyze()
    return journey_make(
        "Campaign",
        trigger_kind=TriggerKind.SEGMENT_ENTRY,
        entry_segment=segment,
        steps=[
            ("text", "send_sms", {"template": template.pk, "next": "done"}),
            ("done", "exit", {}),
        ],
    )


def _midday_zone() -> str:
    """A fixed-offset zone where it is 13:00 now (the workers run on the real clock)."""
    offset = (13 - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def _campaign_clear() -> None:
    """What a run leaves behind, so that the next starts from enrolled contacts alone."""
    for table in (
        "sends_messageevent",
        "sends_trackedlink",
        "sends_outboundmessage",
        "journeys_activity",
        "journeys_enrollment",
        "contacts_event",
    ):
        table_clear(table)
    _analyze()


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- one run -----------------------------------------------------------------------------


def _campaign(journey: Journey, count: int, processes: int, fake: FakeProcess) -> CampaignRun:
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    with ExitStack() as stack:
        broker, env = _broker(stack, prefix, fake.call(_fake_url))
        workers = [
            stack.enter_context(
                _celery(_worker_command(prefix, queue, pool or processes), env, prefix + queue)
            )
            for queue, pool in QUEUE_PROCESSES.items()
        ]
        for worker in workers:
            _ready_wait(worker)
        entered = segment_enroll(journey=journey)
        if entered != count:
            raise RuntimeError(f"{entered} of {count} contacts entered the journey")
        groups = {w.process.pid: q for w, q in zip(workers, QUEUE_PROCESSES, strict=True)}
        meter = stack.enter_context(_CpuMeter(groups, _database_name()))
        started = time.time()
        _advance_due_now()  # as if beat had been ticking: its first advance is due at once
        beat = stack.enter_context(_celery(_beat_command(), env, prefix + "beat"))
        meter.groups[beat.process.pid] = "beat"
        _done_wait(journey, entered, lambda: all(w.process.poll() is None for w in workers))
        cpu = meter.stop()
        _broker_clear(broker, prefix)
    engine_log = workers[list(QUEUE_PROCESSES).index("engine")].log
    _where_it_went(processes, started, meter.by_part(), engine_log, journey)
    decisions = _decisions(journey)
    tally = fake.call(_fake_tally)
    fake.call(_fake_reset)
    sql_floor_s, sql_floor_cpu_s = _sql_floor(journey)
    floor_calls = min(entered, CLIENT_FLOOR_MAX)
    client_floor_s, client_floor_cpu_s = _client_floor(fake.call(_fake_url), floor_calls, processes)
    fake.call(_fake_reset)
    return CampaignRun(
        processes=processes,
        entered=entered,
        decided=decisions["decided"],
        accepted=decisions["accepted"],
        first_decided_s=max(decisions["first"].timestamp() - started, 0.0),
        decided_s=max(decisions["last"].timestamp() - started, 1e-3),
        accepted_s=max(tally["last"] - tally["first"], 1e-3),
        end_to_end_s=max(tally["last"] - started, 1e-3),
        cpu_s=cpu,
        provider_calls=tally["posts"],
        duplicate_calls=tally["duplicates"],
        time_limit_hits=sum(_time_limit_hits(worker.log) for worker in workers),
        refused=decisions["refused"],
        sql_floor_s=sql_floor_s,
        sql_floor_cpu_s=sql_floor_cpu_s,
        client_floor_calls=floor_calls,
        client_floor_s=client_floor_s,
        client_floor_cpu_s=client_floor_cpu_s,
    )


ADVANCE_RUN_LINE = re.compile(
    r"^(\S+ \S+) INFO celery.app.trace Task journeys.enrollments_advance\[\S+\] "
    r"succeeded in ([\d.]+)s: (\d+)"
)


def _where_it_went(processes: int, started: float, cpu: Counter, engine_log: Path, journey):
    """Prints where the run's CPU went, how many advance runs overlapped, and how far the
    sends trailed the decisions (to read the figures by, not figures themselves)."""
    parts = ", ".join(f"{part} {seconds:.1f}" for part, seconds in cpu.most_common())
    print(f"# campaign {processes}+{processes}: CPU s by part: {parts}", flush=True)
    runs = _advance_runs(engine_log)
    useful = [(a, b) for a, b, n in runs if n]
    print(
        f"# campaign {processes}+{processes}: {len(runs)} advance runs ({len(useful)} advanced "
        f"any), at most {_most_at_once(useful)} at once; busy run-seconds "
        f"{sum(b - a for a, b in useful):.0f}",
        flush=True,
    )
    messages = OutboundMessage.objects.filter(journey_id=journey.pk)
    span = messages.aggregate(last=Max("created_at"))
    if span["last"] is None:
        return
    decided_at = span["last"].timestamp()
    sent_by_then = messages.filter(sent_at__lte=span["last"]).count()
    lags = sorted(
        (sent - made).total_seconds()
        for made, sent in messages.exclude(sent_at=None).values_list("created_at", "sent_at")
    )
    if lags:
        p50, p90 = lags[len(lags) // 2], lags[int(len(lags) * 0.9)]
        print(
            f"# campaign {processes}+{processes}: decided by {decided_at - started:.1f} s, "
            f"{sent_by_then} sent by then; made → sent p50 {p50:.1f} s, p90 {p90:.1f} s",
            flush=True,
        )


def _advance_runs(log: Path) -> list[tuple[float, float, int]]:
    """(start, end, advanced) of each advance run the engine's log reports."""
    runs = []
    with log.open(errors="replace") as lines:
        for line in lines:
            if found := ADVANCE_RUN_LINE.search(line):
                at = datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                runs.append((at - float(found[2]), at, int(found[3])))
    return runs


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def _advance_due_now() -> None:
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=PREFIX + "advance journeys").update(
        last_run_at=datetime(2000, 1, 1, tzinfo=UTC)
    )


def _done_wait(journey: Journey, entered: int, worker_alive) -> None:
    """Until every message is decided and none is queued or being sent; a run where a worker
    died, or that makes no progress for STALL_SECONDS, is reported as it stands."""
    last, progress_at = None, time.monotonic()
    while time.monotonic() - progress_at < STALL_SECONDS:
        if not worker_alive():
            print("# campaign: a worker died; see its log under var/", flush=True)
            return
        state = OutboundMessage.objects.filter(journey_id=journey.pk).aggregate(
            made=Count("pk"),
            open=Count("pk", filter=Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])),
        )
        if state["made"] == entered and state["open"] == 0:
            return
        if state != last:
            last, progress_at = state, time.monotonic()
        time.sleep(0.5)
    print(f"# campaign stalled for {STALL_SECONDS} s at {last}", flush=True)


def _decisions(journey: Journey) -> dict:
    messages = OutboundMessage.objects.filter(journey_id=journey.pk)
    span = messages.aggregate(first=Min("created_at"), last=Max("created_at"))
    by_status = Counter(dict(messages.order_by().values_list("status").annotate(n=Count("pk"))))
    accepted = by_status.pop(MessageStatus.SENT, 0) + by_status.pop(MessageStatus.DELIVERED, 0)
    now = datetime.now(UTC)
    return {
        "decided": messages.count(),
        "accepted": accepted,
        "refused": dict(by_status),
        "first": span["first"] or now,
        "last": span["last"] or now,
    }


def _time_limit_hits(log: Path) -> int:
    with log.open(errors="replace") as lines:
        return sum(1 for line in lines if TIME_LIMIT_LINE.search(line))


# --- the floors --------------------------------------------------------------------------


def _sql_floor(journey: Journey) -> tuple[float, float]:
    """The same messages by one set-based INSERT … SELECT (rolled back): wall and database
    CPU seconds."""
    step = journey.first_step
    template_version = step.config["template"]
    false = "false" if connection.vendor == "postgresql" else "0"
    sql = f"""
        INSERT INTO sends_outboundmessage (channel, contact_id, to_address, subject, body,
            encoding, segments, category, origin, send_key, status, decision, reason_code,
            reason, attempts, needs_reconciliation, sender, error_code, error_message,
            price_unit, created_at, queued_at, journey_id, enrollment_id, step_id,
            template_version_id, from_sender_id, html)
        SELECT 'sms', c.id, c.phone, '',
            'Cue Demo: welcome aboard, ' || c.first_name || '. Reply STOP to opt out.',
            'GSM-7', 1, 'marketing', 'journey', 'floor-' || CAST(e.id AS TEXT), 'queued',
            'allow', 'allowed', '', 0, {false}, '', '', '', '', %s, %s, e.journey_id, e.id,
            e.current_step_id,
            (SELECT current_version_id FROM library_messagetemplate WHERE id = %s), s.id, ''
        FROM journeys_enrollment e
        JOIN contacts_contact c ON c.id = e.contact_id
        JOIN consent_consentstate cs ON cs.contact_id = c.id AND cs.channel = 'sms'
            AND cs.purpose = 'marketing' AND cs.status = 'opted_in'
        LEFT JOIN consent_suppression x ON x.channel = 'sms' AND x.address = c.phone
        JOIN sends_sender s ON s.is_default
        WHERE e.journey_id = %s AND x.id IS NULL
    """
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    backend = _backend_pid()
    with transaction.atomic(), connection.cursor() as cursor:
        cpu_before = _pid_cpu(backend)
        started = time.perf_counter()
        cursor.execute(sql, [now, now, template_version, journey.pk])
        elapsed = time.perf_counter() - started
        cpu = _pid_cpu(backend) - cpu_before
        made = cursor.rowcount
        transaction.set_rollback(True)
    if made != Journey.objects.get(pk=journey.pk).enrollments.count():
        raise RuntimeError(f"the SQL floor made {made} messages")
    return elapsed, cpu


def _backend_pid() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _client_floor(base_url: str, calls: int, processes: int) -> tuple[float, float]:
    """`calls` message creates by the twilio client alone, in `processes` processes of
    SEND_THREADS threads each, against the same fake: wall seconds and the client
    processes' CPU seconds."""
    shares = [calls // processes + (i < calls % processes) for i in range(processes)]
    connection.close()  # the forked children must not share the bench's connection
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with ProcessPoolExecutor(processes, mp_context=get_context("fork")) as pool:
        sent = sum(pool.map(_client_send, [base_url] * processes, shares, range(processes)))
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if sent != calls:
        raise RuntimeError(f"the client floor made {sent} of {calls} calls")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _client_send(base_url: str, calls: int, process: int) -> int:
    client = twilio_client_build(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        base_url=base_url,
        timeout=10,
        pool_size=SEND_THREADS,
    )

    def send(i: int) -> None:
        client.messages.create(
            to=f"+1312{(process * 10**6 + i) % 10**7:07d}",
            body=f"Cue Demo: welcome aboard, First{i}. Reply STOP to opt out.",
            messaging_service_sid=SERVICE_SID,
            status_callback=f"{settings.PUBLIC_BASE_URL}/floor?m={process}-{i}",
            validity_period=14400,
        )

    with ThreadPoolExecutor(SEND_THREADS) as pool:
        return sum(1 for _ in pool.map(send, range(calls)))


# --- the fake Twilio (in its own process: these run there) --------------------------------


def _fake_start() -> FakeTwilio:
    from apps.sends.testing import fake_twilio

    # Its server's listen backlog (socketserver's 5) would refuse connections once a few
    # dozen senders open theirs at once; Twilio's would not. In the fake's own process only.
    fake_twilio._FakeTwilioHTTPServer.request_queue_size = 1024
    return FakeTwilio(ACCOUNT, TOKEN).start()


def _fake_url(fake: FakeTwilio) -> str:
    return fake.base_url


def _fake_reset(fake: FakeTwilio) -> None:
    fake.reset()


def _fake_tally(fake: FakeTwilio) -> dict:
    """Message creates received, how many were a second call for the same message (by the
    message id in its status callback), and when the first and last were accepted."""
    posts = [r for r in fake.requests if r.method == "POST"]
    keys = Counter(_message_key(r.form) for r in posts)
    accepted = sorted(r.received_at.timestamp() for r in posts if r.status == 201)
    now = time.time()
    return {
        "posts": len(posts),
        "duplicates": sum(n - 1 for n in keys.values()),
        "first": accepted[0] if accepted else now,
        "last": accepted[-1] if accepted else now,
    }


def _message_key(form: dict) -> str:
    callback = form.get("StatusCallback") or ""
    return (parse_qs(urlsplit(str(callback)).query).get("m") or [callback])[0]


# --- worker processes --------------------------------------------------------------------


@dataclass(frozen=True)
class _Celery:
    process: subprocess.Popen
    log: Path


def _broker(stack: ExitStack, prefix: str, fake_url: str) -> tuple[str, dict[str, str]]:
    """The broker the run's processes share, and their environment."""
    broker = os.environ.get("BENCH_REDIS_URL") or settings.CELERY_BROKER_URL
    extra = {}
    if not broker.startswith(("redis://", "rediss://")):
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="cue-bench-broker-"))
        broker, extra = "filesystem://", {"CUE_BENCH_BROKER_DIR": folder}
    env = {
        **os.environ,
        **extra,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CUE_BENCH_QUEUE_PREFIX": prefix,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_FROM_NUMBER": "",
        "TWILIO_API_BASE_URL": fake_url,
        "TWILIO_TIMEOUT_SECONDS": "10",
    }
    env.pop("CUE_PACING_REDIS_URL", None)  # the broker's Redis, when it is Redis
    return broker, env


def _broker_clear(broker: str, prefix: str) -> None:
    """Drops what the run's queues still hold (periodic tasks beat sent near the end)."""
    if broker.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _database_name() -> str | None:
    return connection.settings_dict["NAME"] if connection.vendor == "postgresql" else None


def _worker_command(prefix: str, queue: str, processes: int) -> list[str]:
    return [
        *(sys.executable, "-m", "celery", "-A", "bench.worker_app", "worker"),
        *("-Q", prefix + queue, "-P", "prefork", f"--concurrency={processes}"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        *("--loglevel=INFO", "-n", f"{prefix}{queue}@%h"),
    ]


def _beat_command() -> list[str]:
    return [
        *(sys.executable, "-m", "celery", "-A", "bench.worker_app", "beat"),
        *("--loglevel=INFO", "--max-interval=1"),
    ]


@contextmanager
def _celery(command: list[str], env: dict[str, str], name: str):
    """A celery process in a process group of its own, logged to var/; always stopped, and
    its pool's children with it."""
    log = ROOT / "var" / f"{name}-{command[5]}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield _Celery(process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def _ready_wait(worker: _Celery, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker exited; see {worker.log}")
        if " ready." in worker.log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the worker was not ready within {timeout:g} s; see {worker.log}")


# --- CPU from /proc ----------------------------------------------------------------------


class _CpuMeter:
    """CPU seconds of the processes in `groups` (process group ids) and of the PostgreSQL
    backends serving `database`, from when it starts to stop(): each process's utime+stime
    as last sampled, less what it had at the start."""

    def __init__(self, groups: dict[int, str], database: str | None):
        self.groups, self.database = groups, database  # {process group id: part}
        self.parts: dict[int, str] = {}  # {pid: its part}
        self.excluded = {_backend_pid()}  # the bench's own polling is not the campaign's
        self.start_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, float] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> "_CpuMeter":
        self.start_cpu = self._sample()
        self.last_cpu = dict(self.start_cpu)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def stop(self) -> float:
        self._stopping.set()
        self._thread.join(timeout=10)
        self.last_cpu.update(self._sample())
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.last_cpu.items())

    def by_part(self) -> Counter:
        """CPU seconds by part (each queue's worker, beat, database)."""
        spent = Counter()
        for pid, cpu in self.last_cpu.items():
            spent[self.parts.get(pid, "?")] += cpu - self.start_cpu.get(pid, 0.0)
        return spent

    def _sample_until_stopped(self) -> None:
        while not self._stopping.wait(0.5):
            self.last_cpu.update(self._sample())

    def _sample(self) -> dict[int, float]:
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) in self.excluded:
                continue
            with suppress(OSError, ValueError, IndexError):
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) in self.groups:
                    self.parts[int(entry.name)] = self.groups[int(fields[2])]
                elif self._serves_database(entry.path, fields):
                    self.parts[int(entry.name)] = "database"
                else:
                    continue
                found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return found

    def _serves_database(self, path: str, fields: list[str]) -> bool:
        if self.database is None:
            return False
        title = Path(path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        return title.startswith("postgres: ") and f" {self.database} " in title


def _pid_cpu(pid: int | None) -> float:
    """utime+stime of one process; 0 when it is not on this machine (a remote database)."""
    with suppress(OSError, TypeError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return 0.0
