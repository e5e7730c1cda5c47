"""Real processes a drill starts and breaks: a private Redis broker and celery beat."""

import shutil
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager

import redis

from tests.workers import ROOT, celery_process, wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a port of its own, which a drill stops and starts again
    on the same port (the shared broker other tests use is never touched)."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no"]
        log = ROOT / "var" / f"test-redis-{self.port}.log"
        with log.open("a") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        assert wait_for(self._answers, timeout=10), f"redis-server did not start (see {log})"

    def stop(self) -> None:
        """Kills it (no shutdown save, like a crash or a lost host)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()


@contextmanager
def celery_beat(*, queue: str, env: dict[str, str] | None = None):
    """A beat process with the database scheduler, sending the due periodic tasks to the
    drill worker's queue. Yields the path of its log."""
    name = f"test-beat-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "celery", "-A", "tests.worker_app", "beat"]
    command += ["--loglevel=INFO", "--max-interval=1"]
    with celery_process(command, queue=queue, env=env, log_name=name):
        yield ROOT / "var" / f"{name}.log"
