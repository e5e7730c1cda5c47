"""Periodic tasks are declared in code, on each app's AppConfig, and synced into
django-celery-beat's tables by `manage.py sync_periodic_tasks` — never made by hand."""

import json

from django.apps import apps as django_apps
from django.db import transaction

PREFIX = "cue: "


def declared_periodic_tasks() -> dict[str, dict]:
    """{name: {"task": dotted task name, "every": seconds, "kwargs": {...}}} from every app."""
    declared = {}
    for app_config in django_apps.get_app_configs():
        for name, spec in getattr(app_config, "periodic_tasks", {}).items():
            declared[PREFIX + name] = spec
    return declared


@transaction.atomic
def periodic_tasks_sync() -> dict[str, list[str]]:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    declared = declared_periodic_tasks()
    created, updated = [], []
    for name, spec in declared.items():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=spec["every"], period=IntervalSchedule.SECONDS
        )
        _, was_created = PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": spec["task"],
                "interval": interval,
                "kwargs": json.dumps(spec.get("kwargs", {})),
                "enabled": True,
            },
        )
        (created if was_created else updated).append(name)
    stale = PeriodicTask.objects.filter(name__startswith=PREFIX).exclude(name__in=declared)
    removed = list(stale.values_list("name", flat=True))
    stale.delete()
    return {"created": created, "updated": updated, "removed": removed}
