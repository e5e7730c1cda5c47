"""What Cue keeps about its CRM connections: where each sync stands, what it did, what it
could not take, and how the CRM's fields and stages map onto Cue's.

Credentials are never here: a connection is configured by the environment alone.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from apps.contacts.models import Company, LifecycleStageDefinition, Opportunity, PipelineStage


class System(models.TextChoices):
    HUBSPOT = "hubspot", "HubSpot"
    SALESFORCE = "salesforce", "Salesforce"


class ObjectType(models.TextChoices):
    """Cue's names for the CRM's objects (apps/crm/adapters.py)."""

    OWNER = "owner", "Owner / user"
    COMPANY = "company", "Company / account"
    LEAD = "lead", "Lead"
    CONTACT = "contact", "Contact"
    DEAL = "deal", "Deal / opportunity"
    TASK = "task", "Task"


class Direction(models.TextChoices):
    IN = "in", "CRM → Cue"
    OUT = "out", "Cue → CRM"


class Connection(models.Model):
    """One row per CRM: the lease that keeps two syncs of it from running at once, and the
    last sync in each direction (for the admin page)."""

    system = models.CharField(max_length=16, choices=System.choices, unique=True)
    sync_lease_until = models.DateTimeField(null=True, blank=True)
    last_sync_in_at = models.DateTimeField(null=True, blank=True)
    last_sync_out_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.get_system_display()


class SyncCursor(models.Model):
    """Where the sync of one object type stands. Saved in the same transaction as the page
    of rows it follows, so it never runs ahead of what Cue holds."""

    system = models.CharField(max_length=16, choices=System.choices)
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    cursor = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "object_type"], name="crm_cursor_once")
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.object_type}"


class SyncRun(models.Model):
    """One sync, in or out, and what it did to each object type."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        STOPPED = "stopped", "Stopped (will resume)"
        FAILED = "failed", "Failed"

    system = models.CharField(max_length=16, choices=System.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices, default=Direction.IN)
    full = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # {object type: {"created": n, "updated": n, "unchanged": n, "skipped": n, "failed": n}}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.system} {self.direction} {self.started_at:%Y-%m-%d %H:%M}"


class RecordError(models.Model):
    """A CRM record Cue could not take, or an item the CRM refused, with why. Kept until a
    later attempt succeeds; never blocks the rest of a sync."""

    system = models.CharField(max_length=16, choices=System.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    record_id = models.CharField(max_length=100, help_text="The CRM's id, or Cue's key outbound.")
    error = models.TextField()
    record = models.JSONField(default=dict, blank=True, help_text="The record as last seen.")
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(auto_now_add=True)
    last_failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "direction", "object_type", "record_id"],
                name="crm_record_error_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["system", "last_failed_at"],
                condition=Q(resolved_at__isnull=True),
                name="crm_record_error_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.object_type} {self.record_id}"


class CrmOwner(models.Model):
    """A CRM owner (HubSpot owner, Salesforce User) and the Cue user with the same email,
    if any. Unmatched owners stay listed, so their records' owner is reported, not lost."""

    system = models.CharField(max_length=16, choices=System.choices)
    record_id = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "record_id"], name="crm_owner_once")
        ]

    def __str__(self) -> str:
        return self.email or self.record_id


class RecordLink(models.Model):
    """A CRM company or deal and the Cue row it became. (A person's CRM id is a contact
    external id of that source, owned by the identity service.)"""

    system = models.CharField(max_length=16, choices=System.choices)
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    record_id = models.CharField(max_length=100)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE)
    opportunity = models.ForeignKey(Opportunity, null=True, blank=True, on_delete=models.CASCADE)
    modified_at = models.DateTimeField(help_text="The CRM's modification time last taken.")
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "object_type", "record_id"], name="crm_record_link_once"
            ),
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(opportunity__isnull=False),
                name="crm_record_link_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.object_type} {self.record_id}"


class FieldMapping(models.Model):
    """One CRM field and the Cue field it fills (in) and/or is written from (out).

    `cue_field` is a built-in field ("first_name"), a custom attribute ("attr.plan"), or a
    consent role ("consent.sms_opt_out", "consent.sms_opt_in", "consent.evidence"). Checked
    against Cue's types when saved (apps/crm/mapping.py)."""

    system = models.CharField(max_length=16, choices=System.choices)
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    crm_field = models.CharField(max_length=100)
    crm_type = models.CharField(
        max_length=16, blank=True, help_text="The CRM field's type as Cue reads it."
    )
    cue_field = models.CharField(max_length=100)
    direction = models.CharField(
        max_length=4,
        choices=[("in", "CRM → Cue"), ("out", "Cue → CRM"), ("both", "Both")],
        default="in",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["system", "object_type", "crm_field"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "object_type", "crm_field", "cue_field"],
                name="crm_field_mapping_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.object_type}.{self.crm_field} → {self.cue_field}"


class StageMapping(models.Model):
    """A CRM stage and the Cue stage it means: a deal stage of a pipeline → a pipeline
    stage, or a contact lifecycle value → a lifecycle stage."""

    class Kind(models.TextChoices):
        DEAL = "deal", "Deal stage"
        LIFECYCLE = "lifecycle", "Lifecycle stage"

    system = models.CharField(max_length=16, choices=System.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    crm_pipeline = models.CharField(max_length=100, blank=True)
    crm_stage = models.CharField(max_length=100)
    pipeline_stage = models.ForeignKey(
        PipelineStage, null=True, blank=True, on_delete=models.PROTECT
    )
    lifecycle_stage = models.ForeignKey(
        LifecycleStageDefinition, null=True, blank=True, on_delete=models.PROTECT
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["system", "kind", "crm_pipeline", "crm_stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "kind", "crm_pipeline", "crm_stage"],
                name="crm_stage_mapping_once",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="deal", pipeline_stage__isnull=False, lifecycle_stage__isnull=True)
                    | Q(
                        kind="lifecycle", pipeline_stage__isnull=True, lifecycle_stage__isnull=False
                    )
                ),
                name="crm_stage_mapping_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.crm_pipeline}/{self.crm_stage}"


class ConsentFlag(models.Model):
    """The consent fields of one CRM person as the last sync read them. Only a change is
    acted on, so a stale opt-out left in the CRM never overrides a newer opt-in the person
    gave Cue themselves."""

    system = models.CharField(max_length=16, choices=System.choices)
    record_id = models.CharField(max_length=100)
    opted_out = models.BooleanField(default=False)
    opted_in = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "record_id"], name="crm_consent_flag_once")
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.record_id}"


class OutboxItem(models.Model):
    """One thing Cue owes a CRM: a follow-up task (created, later completed), an SMS on the
    person's timeline, or a consent change for the mapped field. Written in the transaction
    of the change it reports; pushed by a worker that claims it with a conditional UPDATE
    and a lease. A task keeps the CRM's id, so a retry updates it and never makes a second.
    """

    class Kind(models.TextChoices):
        TASK = "task", "Follow-up task"
        ACTIVITY = "activity", "SMS activity"
        CONSENT = "consent", "Consent change"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Refused by the CRM"

    system = models.CharField(max_length=16, choices=System.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="What it reports, e.g. task:42.")
    contact_id = models.BigIntegerField(db_index=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    record_id = models.CharField(max_length=100, blank=True, help_text="The CRM's id for it.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, help_text="The worker's claim token.")
    version = models.PositiveIntegerField(
        default=1,
        help_text="Raised when the payload changes, so an older push cannot mark it sent.",
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["system", "key"], name="crm_outbox_once")]
        indexes = [
            models.Index(
                fields=["system", "next_attempt_at"],
                condition=Q(status="pending"),
                name="crm_outbox_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.key} ({self.status})"
