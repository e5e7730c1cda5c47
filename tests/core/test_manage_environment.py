"""A fresh checkout's manage.py runs in development without anything exported, and
production (DEBUG or SECRET_KEY configured) refuses to start without its required settings."""

import subprocess
import sys

from tests.workers import ROOT

SHOW = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_runs_in_development_when_nothing_is_configured():
    run = _manage("shell", "-c", SHOW)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "True dev-only-insecure-key"


def test_production_refuses_to_start_without_its_required_settings():
    run = _manage("shell", "-c", SHOW, SECRET_KEY="s" * 50)
    assert run.returncode == 1
    assert "Set the ALLOWED_HOSTS environment variable" in run.stderr
    run = _manage("shell", "-c", SHOW, DEBUG="false")
    assert run.returncode == 1
    assert "Set the SECRET_KEY environment variable" in run.stderr
    run = _manage("shell", "-c", SHOW, DEBUG="false", SECRET_KEY="s" * 50, ALLOWED_HOSTS="a.b")
    assert run.returncode == 1
    assert "Set the PUBLIC_BASE_URL environment variable" in run.stderr


def test_production_starts_with_its_required_settings():
    run = _manage(
        "shell",
        "-c",
        SHOW,
        DEBUG="false",
        SECRET_KEY="s" * 50,
        ALLOWED_HOSTS="cue.example.com",
        PUBLIC_BASE_URL="https://cue.example.com",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == f"False {'s' * 50}"
