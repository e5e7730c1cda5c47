"""No personal data in logs: phone numbers and emails are masked in every line, in the web
process and in workers alike."""

import logging
import subprocess
import sys

import pytest
from django.conf import settings

from apps.core.logs import MaskingFormatter, personal_data_mask
from tests.workers import ROOT


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("STOP from +14155550123 at 17:00", "STOP from +1••••••••23 at 17:00"),
        ("call (415) 555-0123 now", "call (•••) •••-••23 now"),
        ("call 415-555-0123 or 415.555.0123", "call •••-•••-••23 or •••.•••.••23"),
        ("to 4155550123.", "to ••••••••23."),
        ("jane.doe@example.com clicked", "j•••@example.com clicked"),
        ("/conversation/+447700900123/", "/conversation/+4•••••••••23/"),
        # Not phone-shaped: ids, long numbers, times and uuids stay readable.
        ("message 12345 id 12345678901234", "message 12345 id 12345678901234"),
        ("at 2026-11-22 17:00:00.123", "at 2026-11-22 17:00:00.123"),
        ("task 7f3e9c1a-0b2d-4e5f-8a9b-1c2d3e4f5a6b", "task 7f3e9c1a-0b2d-4e5f-8a9b-1c2d3e4f5a6b"),
    ],
)  # fmt: skip
def test_it_masks_phone_numbers_and_emails_only(line, masked):
    assert personal_data_mask(line) == masked


def test_every_line_is_formatted_with_masking_arguments_and_tracebacks_included():
    assert settings.LOGGING["formatters"]["plain"]["()"] == "apps.core.logs.MaskingFormatter"
    formatter = MaskingFormatter("%(message)s")
    try:
        raise ValueError("no consent for +14155550123")
    except ValueError:
        record = logging.LogRecord(
            "cue",
            logging.ERROR,
            __file__,
            1,
            "send to %s failed",
            ("+14155550123",),
            sys.exc_info(),
        )
    text = formatter.format(record)
    assert "4155550123" not in text
    assert text.startswith("send to +1••••••••23 failed")
    assert "ValueError: no consent for +1••••••••23" in text


def test_a_worker_process_logs_through_the_masking_formatter():
    # What a worker does at start: Celery sets up logging (its own handlers, unless
    # Cue takes over through the setup_logging signal).
    script = (
        "import logging; from config.celery import app; "
        "app.log.setup(loglevel='INFO'); "
        "logging.getLogger('apps.sends').warning('STOP from +14155550123')"
    )
    run = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "STOP from +1••••••••23" in run.stderr
    assert "4155550123" not in run.stderr
