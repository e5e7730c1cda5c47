from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Attribution, dashboards, the fatigue guard and compliance audits."""

    name = "apps.reporting"
    label = "reporting"
    verbose_name = "Reporting"

    periodic_tasks = {
        "refresh attribution and rollups": {"task": "reporting.refresh", "every": 600},
        "fatigue guard": {"task": "reporting.fatigue_guard", "every": 900},
        "weekly compliance audit": {"task": "reporting.audit", "every": 7 * 24 * 3600},
        "retention prune": {"task": "reporting.retention_prune", "every": 24 * 3600},
    }

    def ready(self) -> None:
        from apps.reporting.erasure import reporting_erasure_parts_register
        from apps.reporting.merge import reporting_merge_parts_register

        reporting_merge_parts_register()
        reporting_erasure_parts_register()
