from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Intent signals, routing rules, follow-up tasks and their SLA clock."""

    name = "apps.routing"
    label = "routing"
    verbose_name = "Routing"

    periodic_tasks = {
        "sla clock": {"task": "routing.sla_sweep", "every": 60},
        "webhook retries": {"task": "routing.webhooks_sweep", "every": 30},
    }

    def ready(self) -> None:
        from apps.contacts.events import event_handler_register
        from apps.contacts.selectors import timeline_source_register
        from apps.routing.erasure import routing_erasure_parts_register
        from apps.routing.handoff import routing_on_events
        from apps.routing.merge import routing_merge_parts_register
        from apps.routing.selectors import TIMELINE_SOURCE, task_timeline_entries
        from apps.routing.services.activity_webhooks import activity_webhooks_register

        event_handler_register("routing.signals", routing_on_events, order=20)
        timeline_source_register(TIMELINE_SOURCE, task_timeline_entries)
        routing_merge_parts_register()
        routing_erasure_parts_register()
        activity_webhooks_register()
