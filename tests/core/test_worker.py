"""A real worker process takes a task from the real broker and its effect lands in the database."""

import uuid

import pytest

from apps.core.models import Heartbeat
from apps.core.tasks import heartbeat
from config.celery import app
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_broker():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_it_runs_a_task_on_a_worker_and_sees_its_effect(real_broker, settings):
    name = f"probe-{uuid.uuid4().hex[:8]}"
    with celery_worker() as queue:
        heartbeat.apply_async(kwargs={"name": name}, queue=queue)
        seen = wait_for(lambda: Heartbeat.objects.filter(name=name).first(), timeout=90)
    assert seen and seen.name == name, "the worker never ran the task (see var/test-*.log)"
    assert Heartbeat.objects.filter(name=name).count() == 1


def test_it_uses_the_configured_broker(settings):
    transport = settings.CELERY_BROKER_URL.split("://")[0]
    assert app.connection_for_write().transport_cls == transport
