import pytest
from django_celery_beat.models import PeriodicTask

from apps.core.schedules import periodic_tasks_sync

pytestmark = pytest.mark.django_db


def test_it_writes_the_schedules_declared_in_code():
    result = periodic_tasks_sync()
    task = PeriodicTask.objects.get(name="cue: worker heartbeat")
    assert "cue: worker heartbeat" in result["created"]
    assert (task.task, task.interval.every, task.enabled) == ("core.heartbeat", 60, True)


def test_it_converges_when_run_twice():
    periodic_tasks_sync()
    second = periodic_tasks_sync()
    assert second["created"] == []
    assert PeriodicTask.objects.filter(name__startswith="cue: ").count() == len(second["updated"])


def test_it_removes_a_schedule_no_longer_declared_and_leaves_others_alone():
    PeriodicTask.objects.create(name="cue: retired job", task="core.heartbeat", interval=_every(5))
    PeriodicTask.objects.create(name="someone else's", task="core.heartbeat", interval=_every(5))
    result = periodic_tasks_sync()
    assert result["removed"] == ["cue: retired job"]
    assert PeriodicTask.objects.filter(name="someone else's").exists()


def _every(seconds):
    from django_celery_beat.models import IntervalSchedule

    return IntervalSchedule.objects.create(every=seconds, period=IntervalSchedule.SECONDS)
