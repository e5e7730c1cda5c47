"""Production serving: gunicorn with Cue's config file, whose access log masks phone
numbers and emails, really serving /healthz."""

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

from apps.core.access_log import MaskingLogger
from tests import workers
from tests.workers import ROOT

CONF = ROOT / "gunicorn.conf.py"


def test_the_config_loads_with_workers_from_the_cpu_count(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 3)
    values = runpy.run_path(str(CONF))
    assert values["workers"] == 7
    assert values["timeout"] == 30
    assert values["logger_class"] == "apps.core.access_log.MaskingLogger"
    config = Config()
    for name in ("bind", "workers", "timeout", "access_log_format", "logger_class"):
        config.set(name, values[name])
    assert config.logger_class is MaskingLogger
    assert config.workers == 7


def test_the_access_log_masks_phone_numbers_and_emails_in_a_request_line(capsys):
    values = runpy.run_path(str(CONF))
    config = Config()
    config.set("access_log_format", values["access_log_format"])
    config.set("accesslog", "-")
    logger = MaskingLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/contacts/?phone=%2B14155550123&email=jane.doe%40example.com",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": "https://cue.example.com/admin/?q=+14155550123",
        "HTTP_USER_AGENT": "curl/8",
    }
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    logger.access(response, [], environ, timedelta(milliseconds=5))
    line = capsys.readouterr().out
    assert "4155550123" not in line
    assert "jane.doe" not in line
    assert '"GET /api/v1/contacts/?phone=+1••••••••23&email=j•••@example.com HTTP/1.1" 200' in line
    assert '"https://cue.example.com/admin/?q=+1••••••••23" "curl/8" 5ms' in line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_a_real_gunicorn_serves_healthz_and_logs_it_masked(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PUBLIC_BASE_URL": "https://cue.example.com",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": workers.test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    log = (tmp_path / "gunicorn.log").open("w+")
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(CONF), "config.wsgi"]
    process = subprocess.Popen(
        gunicorn, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        status, body = _get_when_up(f"http://127.0.0.1:{port}/healthz?phone=%2B14155550123", log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert status == 200
    assert body["status"] == "ok"
    log.seek(0)
    text = log.read()
    assert "GET /healthz?phone=+1••••••••23 HTTP/1.1" in text
    assert "4155550123" not in text


def _get_when_up(url: str, log) -> tuple[int, dict]:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.loads(response.read())
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError(f"gunicorn did not answer:\n{log.read()[-3000:]}") from None
            time.sleep(0.2)
