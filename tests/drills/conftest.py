"""What every failure drill needs: a fake Twilio the workers talk to, contacts it is midday
for (the workers run on the real clock), tasks routed to a drill's own worker, and a way to
let minutes pass for the rows a sweep looks at."""

import itertools
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.sends.models import OutboundMessage
from apps.sends.testing.fake_twilio import FakeTwilio
from config.celery import app
from tests.factories import ContactFactory

ON_POSTGRESQL = connection.vendor == "postgresql"
# Every drill with a worker: real processes, committed data, PostgreSQL + Redis only.
WORKER_DRILL = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRESQL, reason="drills run real workers on PostgreSQL + Redis (CI's second pass)"
    ),
]

ACCOUNT_SID, AUTH_TOKEN = "AC" + "d" * 32, "drill-auth-token"
SERVICE_SID = "MG" + "d" * 32
PUBLIC_BASE_URL = "https://cue.example.com"
_numbers = itertools.count()


@pytest.fixture
def fake_twilio():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


def twilio_env(fake: FakeTwilio, **overrides: str) -> dict[str, str]:
    """A worker's environment for sending through the fake."""
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_FROM_NUMBER": "",
        "TWILIO_API_BASE_URL": fake.base_url,
        "TWILIO_TIMEOUT_SECONDS": "10",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        **overrides,
    }


def zone_at(hour: int) -> str:
    """A fixed-offset zone where it is `hour` o'clock now (the workers run on the real clock,
    so a drill picks the zone that puts its contacts inside or outside quiet hours)."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def midday_zone() -> str:
    return zone_at(13)


@pytest.fixture
def sms_contact(db):
    """A contact with marketing SMS consent, a number of its own, and midday now."""

    def make(**fields):
        phone = f"+1312555{next(_numbers) % 10000:04d}"
        contact = ContactFactory(**{"phone": phone, "time_zone": midday_zone(), **fields})
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
            evidence=Evidence(note="drill"),
        )
        return contact

    return make


@contextmanager
def tasks_to(queue: str):
    """This process's tasks go to the drill's worker through the real broker, as the web
    app's do, instead of running eagerly here."""
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    routes = app.conf.task_routes
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    # Cue's routes name queues no drill worker consumes; update() rebuilds Celery's router
    app.conf.update(task_routes={})
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue
        app.conf.update(task_routes=routes)


def minutes_pass(minutes: float, messages=None) -> None:
    """As if `minutes` went by for these messages' claim and queue times (the sweeps leave
    younger rows to the normal path)."""
    ago = timedelta(minutes=minutes)
    rows = OutboundMessage.objects.all() if messages is None else messages
    rows.exclude(claimed_at=None).update(claimed_at=F("claimed_at") - ago)
    rows.exclude(queued_at=None).update(queued_at=F("queued_at") - ago)


def posts(fake: FakeTwilio) -> list:
    """The message creates the fake received (accepted or not), in order."""
    return [r for r in fake.requests if r.method == "POST"]
