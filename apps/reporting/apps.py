from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Attribution, dashboards, the fatigue guard and compliance audits."""

    name = "apps.reporting"
    label = "reporting"
    verbose_name = "Reporting"
