"""The recurring compliance audit: run every check over a period, store the report with a
finding per check (zero or not), and email it to the Compliance group."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import COMPLIANCE
from apps.accounts.services import system_user
from apps.reporting.audit.checks import CHECKS
from apps.reporting.models import AuditFinding, AuditReport

logger = logging.getLogger(__name__)


def audit_run(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    requested_by=None,
    trigger: str = AuditReport.Trigger.SCHEDULE,
) -> AuditReport:
    """Audits [start, end) — by default the last CUE_AUDIT_PERIOD_DAYS up to now — and
    stores the report; the Compliance group gets it by email after commit."""
    end = end or timezone.now()
    start = start or end - timedelta(days=settings.CUE_AUDIT_PERIOD_DAYS)
    with transaction.atomic():
        report = AuditReport.objects.create(
            period_start=start,
            period_end=end,
            trigger=trigger,
            requested_by=requested_by or system_user(),
            started_at=timezone.now(),
        )
        findings = [
            AuditFinding(
                report=report,
                check_name=name,
                count=result.count,
                rows=result.rows,
                note=result.note,
            )
            for name, check in CHECKS.items()
            for result in [check(start, end)]
        ]
        AuditFinding.objects.bulk_create(findings)
        report.total_findings = sum(finding.count for finding in findings)
        report.finished_at = timezone.now()
        report.save(update_fields=["total_findings", "finished_at"])
        transaction.on_commit(lambda: audit_report_email(report_id=report.pk))
    return report


def audit_report_email(*, report_id: int) -> list[str]:
    """Emails the report to every active member of the Compliance group; records who."""
    report = AuditReport.objects.get(pk=report_id)
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=COMPLIANCE, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    if not recipients:
        return []
    path = reverse("admin:reporting_auditreport_change", args=[report.pk])
    context = {
        "report": report,
        "findings": list(report.findings.all()),
        "url": f"{settings.PUBLIC_BASE_URL}{path}",
    }
    verdict = "clean" if report.total_findings == 0 else f"{report.total_findings} findings"
    period = f"{report.period_start:%Y-%m-%d}–{report.period_end:%Y-%m-%d}"
    subject = f"Cue compliance audit {period}: {verdict}"
    body = render_to_string("reporting/email/audit_report.txt", context)
    send_mail(subject, body, None, recipients)
    AuditReport.objects.filter(pk=report.pk).update(emailed_to=recipients)
    return recipients
