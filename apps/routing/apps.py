from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Intent signals, routing rules, follow-up tasks and their SLA clock."""

    name = "apps.routing"
    label = "routing"
    verbose_name = "Routing"
