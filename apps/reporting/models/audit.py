from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditCheck(models.TextChoices):
    """What the recurring audit proves is zero."""

    NO_CONSENT = "no_consent", "Sent without valid consent at send time"
    QUIET_HOURS = "quiet_hours", "Sent inside the recipient's quiet hours"
    CAP_EXCEEDED = "cap_exceeded", "Sent beyond a frequency cap"
    UNAPPROVED_VERSION = "unapproved_version", "Sent from a version not approved at send time"
    OPT_OUT_NOT_HONOURED = "opt_out_late", "Marketing sent more than a minute after an opt-out"
    ADDRESS_SUPPRESSED = "address_suppressed", "Sent to a number or email on the suppression list"
    HELD_OVERDUE = "held_overdue", "Still held past the held-message expiry"
    TASK_BREACHED = "task_breached", "Follow-up task past its SLA"


class AuditReport(models.Model):
    """One run of the recurring compliance audit over a period. Every check leaves a
    finding, zero or not, so the report shows what was checked as well as what was found."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Weekly schedule"
        ON_DEMAND = "on_demand", "On demand"

    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total_findings = models.PositiveIntegerField(default=0)
    emailed_to = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("run_audit", "Can run the compliance audit on demand")]

    def __str__(self) -> str:
        return (
            f"Audit {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}: "
            f"{self.total_findings} finding{'s' if self.total_findings != 1 else ''}"
        )

    @property
    def is_clean(self) -> bool:
        return self.finished_at is not None and self.total_findings == 0


class AuditFinding(models.Model):
    """One check of one audit: how many rows broke the rule and the first of them."""

    ROW_LIMIT = 500

    report = models.ForeignKey(AuditReport, on_delete=models.CASCADE, related_name="findings")
    check_name = models.CharField("check", max_length=24, choices=AuditCheck.choices)
    count = models.PositiveIntegerField()
    rows = models.JSONField(
        default=list, blank=True, encoder=DjangoJSONEncoder, help_text="The first 500 rows."
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["report", "id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "check_name"], name="audit_finding_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_check_name_display()}: {self.count}"


class AuditTrail(AuditReport):
    """The consolidated audit trail across every history table, the consent ledger and
    template approvals. Not a table of its own: the admin page reads the sources directly."""

    class Meta:
        proxy = True
        default_permissions = ()
        permissions = [("view_audit", "Can view the consolidated audit trail")]
        verbose_name = "audit trail"
        verbose_name_plural = "audit trail"


class RetentionRun(models.Model):
    """One retention prune: what was cleared, how many rows, older than when, and by whom
    (the system actor on the schedule). The consent ledger is never pruned."""

    class Target(models.TextChoices):
        MESSAGE_BODIES = "message_bodies", "Message bodies"
        CLICK_IPS = "click_ips", "Click IP addresses and user agents"
        SEGMENT_REJECTIONS = "segment_rejections", "Segment rejected messages"
        EVENT_PROPERTIES = "event_properties", "Event properties"
        TASK_NOTES = "task_notes", "Follow-up task notes"
        SYNC_LOGS = "sync_logs", "CRM sync error log"
        SYNC_RUNS = "sync_runs", "CRM sync runs"
        MESSAGE_ROWS = "message_rows", "Messages and their logs"
        EVENT_ROWS = "event_rows", "Events"

    target = models.CharField(max_length=24, choices=Target.choices)
    cutoff = models.DateTimeField(help_text="Rows older than this were cleared.")
    rows = models.PositiveIntegerField()
    detail = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="Rows per table."
    )
    ran_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.rows} before {self.cutoff:%Y-%m-%d}"
