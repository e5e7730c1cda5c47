"""Who may read what in reporting, and the beat schedules reporting declares."""

import pytest
from django.contrib.auth.models import Group
from django_celery_beat.models import PeriodicTask

from apps.accounts import roles
from apps.core.schedules import periodic_tasks_sync
from apps.reporting import tasks
from apps.reporting.models import AuditReport, RetentionRun

pytestmark = pytest.mark.django_db


def holds(role: str, permission: str) -> bool:
    app_label, codename = permission.split(".")
    return Group.objects.filter(
        name=role, permissions__codename=codename, permissions__content_type__app_label=app_label
    ).exists()


@pytest.mark.parametrize(
    ("role", "dashboard", "audit", "run_audit"),
    [
        (roles.MARKETER, True, False, False),
        (roles.APPROVER, True, False, False),
        (roles.COMPLIANCE, True, True, True),
        (roles.ADMIN, True, True, True),
        (roles.SALES_REP, False, False, False),
        (roles.SALES_MANAGER, False, False, False),
    ],
)
def test_it_gives_each_role_exactly_its_reporting_permissions(role, dashboard, audit, run_audit):
    assert holds(role, "reporting.view_dailyrollup") is dashboard
    assert holds(role, "reporting.view_audit") is audit
    assert holds(role, "reporting.view_auditreport") is audit
    assert holds(role, "reporting.view_retentionrun") is audit
    assert holds(role, "reporting.run_audit") is run_audit
    assert holds(role, "reporting.change_attributionsettings") is (role == roles.ADMIN)


def test_it_declares_its_beat_schedules_in_code():
    periodic_tasks_sync()
    schedules = {
        task.name: (task.task, task.interval.every)
        for task in PeriodicTask.objects.filter(task__startswith="reporting.")
    }
    assert schedules == {
        "cue: refresh attribution and rollups": ("reporting.refresh", 600),
        "cue: fatigue guard": ("reporting.fatigue_guard", 900),
        "cue: weekly compliance audit": ("reporting.audit", 604800),
        "cue: retention prune": ("reporting.retention_prune", 86400),
    }


def test_its_tasks_run_their_services():
    assert tasks.reporting_refresh_task() == 2  # today and yesterday, with nothing in them
    assert tasks.fatigue_guard_task() == 0
    assert tasks.retention_prune_task() == 0
    report_id = tasks.audit_task()
    assert AuditReport.objects.get(pk=report_id).trigger == "schedule"
    assert RetentionRun.objects.count() == 5  # bodies, clicks, rejections, events, task notes
