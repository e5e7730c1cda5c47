from django.apps import AppConfig


class JourneysConfig(AppConfig):
    """Event-triggered journeys, their steps, enrollments and engine."""

    name = "apps.journeys"
    label = "journeys"
    verbose_name = "Journeys"
