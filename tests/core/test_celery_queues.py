"""Each kind of work on its own Celery queue, and every queue consumed by the Procfiles."""

import re
from pathlib import Path

import pytest

from config.celery import app

QUEUES = {"intake", "engine", "dispatch", "housekeeping"}
ROOT = Path(__file__).resolve().parents[2]


def _queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


def _cue_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


@pytest.mark.parametrize(
    "task_name, queue",
    [
        ("contacts.events_hand_off", "intake"),
        ("sends.inbound_reply_handle", "intake"),
        ("journeys.enrollments_advance", "engine"),
        ("journeys.enrollment_advance", "engine"),
        ("journeys.segment_entries_enroll", "engine"),
        ("sends.message_dispatch", "dispatch"),
        ("sends.messages_sweep", "housekeeping"),
        ("reporting.retention_prune", "housekeeping"),
    ],
)
def test_it_routes_each_kind_of_work_to_its_queue(task_name, queue):
    assert _queue_of(task_name) == queue


def test_it_routes_every_task_to_one_of_the_four_queues():
    routed = {name: _queue_of(name) for name in _cue_tasks()}
    assert len(routed) >= 25
    assert set(routed.values()) == QUEUES


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_it_has_every_queue_consumed_by_a_worker_of_the_procfile(procfile):
    consumed = set()
    for line in (ROOT / procfile).read_text().splitlines():
        if match := re.search(r"celery -A config worker -Q (\S+)", line):
            consumed |= set(match.group(1).split(","))
    assert consumed == QUEUES
