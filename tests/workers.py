"""Starts a real Celery worker process against the test database and the configured broker."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@dataclass(frozen=True)
class WorkerProcess:
    """A running test worker: the queue it consumes, and a way to crash it."""

    queue: str
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash or an OOM kill
        would: no warm shutdown, nothing acknowledged or handed back."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def celery_worker(*, pool: str = "solo", concurrency: int = 1, env: dict[str, str] | None = None):
    """A worker consuming a queue of its own, so nothing else's tasks reach it; the tasks it
    sends itself (a dispatch after a journey step) go to that queue too (tests/worker_app.py).

    Yields the queue name; send tasks with `apply_async(queue=name)`. `env` adds to or
    overrides the worker's environment, e.g. the fake Twilio server's TWILIO_* settings.
    """
    with celery_worker_process(pool=pool, concurrency=concurrency, env=env) as worker:
        yield worker.queue


@contextmanager
def celery_worker_process(
    *,
    pool: str = "solo",
    concurrency: int = 1,
    env: dict[str, str] | None = None,
    queue: str | None = None,
):
    """Like celery_worker, but yields the WorkerProcess, to kill it mid-task; `queue` lets a
    fresh worker take over the queue of one that died."""
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    name = f"{queue}-{uuid.uuid4().hex[:4]}"  # unique even when a worker takes over a queue
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.worker_app",
        "worker",
        "-Q",
        queue,
        "-P",
        pool,
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
        "-n",
        f"{name}@%h",
    ]
    with celery_process(command, queue=queue, env=env, log_name=name) as process:
        yield WorkerProcess(queue, process)


@contextmanager
def celery_process(command: list[str], *, queue: str, env: dict[str, str] | None, log_name: str):
    """Runs a celery command (worker, beat) against the test database in a process group of
    its own, logged to var/<log_name>.log; always stopped (and its children killed) on exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DEBUG": "true",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CUE_TEST_WORKER_QUEUE": queue,
        **(env or {}),
    }
    log = (ROOT / "var" / f"{log_name}.log").open("w+")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # pool children left
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.2):
    """Polls until predicate() is truthy; returns its value or None when time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None
