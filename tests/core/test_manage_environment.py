"""A fresh checkout's manage.py runs in development without anything exported, and
production (DEBUG or SECRET_KEY configured) refuses to start without its required settings.
Each run names its settings file (CUE_ENV_FILE), so a developer's own .env in the checkout
changes nothing here; what manage.py does with such a file is tested with files of our own."""

import subprocess
import sys

from tests.workers import ROOT

SHOW = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CUE_ENV_FILE": "", **env}
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


def test_a_settings_file_that_says_nothing_of_production_keeps_development(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("TIME_ZONE=Europe/Paris\n")

    run = _manage("shell", "-c", SHOW, CUE_ENV_FILE=str(env_file))

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "True dev-only-insecure-key"


def test_a_settings_file_that_configures_production_is_production(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text(f"SECRET_KEY={'k' * 50}\n")

    run = _manage("shell", "-c", SHOW, CUE_ENV_FILE=str(env_file))

    assert run.returncode == 1
    assert "Set the ALLOWED_HOSTS environment variable" in run.stderr


def test_the_environment_wins_over_the_settings_file(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("DEBUG=false\nSECRET_KEY=from-the-file\n")

    run = _manage("shell", "-c", SHOW, CUE_ENV_FILE=str(env_file), DEBUG="true")

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "True from-the-file"
