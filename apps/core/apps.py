from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure: health, heartbeats, the system actor, API error mapping."""

    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    periodic_tasks = {
        "worker heartbeat": {"task": "core.heartbeat", "every": 60, "kwargs": {"name": "worker"}},
        "monthly partitions ahead": {"task": "core.partitions_extend", "every": 24 * 3600},
    }

    def ready(self) -> None:
        from django.db.models import Field

        from apps.core.lookups import OneOf

        Field.register_lookup(OneOf)
