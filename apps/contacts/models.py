import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from apps.core.partitions import Partitioned


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # slow to list: read it once


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(f"{value!r} is not an IANA time zone, e.g. America/Chicago.")


def validate_lifecycle_stage(value: str) -> None:
    if not LifecycleStageDefinition.objects.filter(key=value).exists():
        raise ValidationError(f"{value!r} is not a lifecycle stage (admin: Lifecycle stages).")


class LifecycleStage(models.TextChoices):
    """The lifecycle stages Cue seeds (migration 0007). The customer's own stages are data:
    LifecycleStageDefinition; ask apps.contacts.stages about them, not this class."""

    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified lead"
    SQL = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    CHURNED = "churned", "Churned"


class ContactKind(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    CHAMPION = "champion", "Champion"
    INFLUENCER = "influencer", "Influencer"
    EVALUATOR = "evaluator", "Evaluator"
    USER = "user", "User"


class IntentBand(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Company(models.Model):
    """An account in the CRM: the organisation contacts and opportunities belong to."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    region = models.CharField(max_length=10, blank=True, help_text="State or province code.")
    country = models.CharField(max_length=2, default="US")
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Custom attributes: see AttributeDefinition."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]
        indexes = [models.Index(Lower("domain"), name="company_domain_lower")]

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet):
    def with_phone(self):
        return self.exclude(phone="")


class Contact(models.Model):
    """A person in the CRM, and where they stand in the buyer journey."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = PhoneNumberField(blank=True, help_text="E.164, e.g. +14155550123.")
    external_id = models.CharField(
        max_length=100, null=True, blank=True, help_text="The contact's id in the CRM."
    )
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    region = models.CharField(max_length=10, blank=True, help_text="State or province code.")
    country = models.CharField(max_length=2, default="US")
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
    )
    kind = models.CharField(
        max_length=16, choices=ContactKind.choices, default=ContactKind.PROSPECT
    )
    lifecycle_stage = models.CharField(
        max_length=64,
        default=LifecycleStage.LEAD,
        validators=[validate_lifecycle_stage],
        help_text="The key of one of the lifecycle stages (admin: Lifecycle stages).",
    )
    lifecycle_stage_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current lifecycle stage was reached in the source system; "
        "empty: unknown. A change that happened before it does not replace the stage.",
    )
    buying_role = models.CharField(max_length=16, choices=BuyingRole.choices, blank=True)
    intent_score = models.FloatField(default=0)
    intent_band = models.CharField(max_length=8, choices=IntentBand.choices, default=IntentBand.LOW)
    source = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Custom attributes: see AttributeDefinition."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the person's data was erased; the gate refuses every message to them.",
    )
    history = HistoricalRecords(excluded_fields=["intent_score", "updated_at"])

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=~Q(phone=""),
                name="contact_phone_unique",
                violation_error_message="Another contact already has this phone number.",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                name="contact_external_id_unique",
                violation_error_message="Another contact already has this external id.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="contact_email_unique",
                violation_error_message="Another contact already has this email address.",
            ),
        ]
        indexes = [
            models.Index(fields=["lifecycle_stage", "kind"], name="contact_stage_kind"),
            models.Index(fields=["intent_band"], name="contact_intent_band"),
            models.Index(fields=["owner"], name="contact_owner"),
            # Lookups by phone (every inbound text) and by email (event intake): the partial
            # unique indexes above serve them on PostgreSQL, but SQLite cannot prove that
            # "phone = ?" implies "phone <> ''" and would scan the table.
            models.Index(fields=["phone"], name="contact_phone"),
            models.Index(fields=["email"], name="contact_email"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or str(self.phone) or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_lifecycle_stage_display(self) -> str:
        """The stage's label (stages are the customer's data, not choices)."""
        stages = LifecycleStageDefinition.objects.filter(key=self.lifecycle_stage)
        return stages.values_list("label", flat=True).first() or self.lifecycle_stage


class ExternalIdSource(models.TextChoices):
    """The systems whose own ids name a contact. "api" is Contact.external_id, the id the
    REST API, CSV import and the events API have always called external_id."""

    API = "api", "API / CSV import"
    SEGMENT = "segment", "Segment userId"
    HUBSPOT = "hubspot", "HubSpot"
    SALESFORCE = "salesforce", "Salesforce"


class ContactExternalId(models.Model):
    """One system's id for a contact. A system names a person by one id, and one id names
    one person: unique per (source, value) and per (contact, source). The same value from
    two systems is two unrelated keys. The "api" row mirrors Contact.external_id, which
    the services write together (apps/contacts/external_ids.py)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(max_length=32, choices=ExternalIdSource.choices)
    value = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source"]
        verbose_name = "external id"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "value"],
                name="contact_external_id_source_value_unique",
                violation_error_message="Another contact already has this id in this source.",
            ),
            models.UniqueConstraint(
                fields=["contact", "source"],
                name="contact_external_id_one_per_source",
                violation_error_message="This contact already has an id in this source.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.value}"


class OpportunityStage(models.TextChoices):
    """The stages of the pipeline Cue seeds (migration 0007). The customer's own pipelines
    are data: Pipeline and PipelineStage; ask apps.contacts.stages about them."""

    DISCOVERY = "discovery", "Discovery"
    DEMO = "demo", "Demo"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSED_WON = "closed_won", "Closed won"
    CLOSED_LOST = "closed_lost", "Closed lost"


class Opportunity(models.Model):
    """A deal in the CRM. Its stage changes are kept in OpportunityStageChange."""

    name = models.CharField(max_length=200)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    pipeline = models.ForeignKey(
        "contacts.Pipeline",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
        help_text="Empty: the default pipeline.",
    )
    stage = models.CharField(
        max_length=64,
        default=OpportunityStage.DISCOVERY,
        help_text="The key of one of its pipeline's stages.",
    )
    stage_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current stage was reached in the source system; empty: unknown. "
        "A change that happened before it does not replace the stage.",
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. USD.")],
    )
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Custom attributes: see AttributeDefinition."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "opportunities"
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        stages = PipelineStage.objects.filter(key=self.stage)
        if self.pipeline_id:
            stages = stages.filter(pipeline_id=self.pipeline_id)
        else:
            stages = stages.filter(pipeline__is_default=True)
        if not stages.exists():
            raise ValidationError(
                {"stage": f"{self.stage!r} is not a stage of this opportunity's pipeline."}
            )


class OpportunityStageChange(models.Model):
    """One move of an opportunity from one stage to another; reporting reads progression here."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=64, blank=True)
    to_stage = models.CharField(max_length=64)
    changed_at = models.DateTimeField(
        db_index=True, help_text="When it happened in the source system (attribution reads it)."
    )
    received_at = models.DateTimeField(
        null=True, blank=True, help_text="When Cue heard of it (empty for older rows)."
    )

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage or 'new'} → {self.to_stage}"


stage_key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,63}$",
    "A stage key is a lowercase slug: letters, digits and underscores, e.g. closed_won.",
)


class LifecycleMeaning(models.TextChoices):
    """What a customer's lifecycle stage means to Cue (goals, segments, reports read this)."""

    PROSPECT = "prospect", "Prospect"
    MQL = "mql", "Marketing qualified lead"
    SQL = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    CHURNED = "churned", "Churned"


class StageMeaning(models.TextChoices):
    """What a customer's opportunity stage means to Cue: still open, won or lost."""

    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class LifecycleStageDefinition(models.Model):
    """One of the customer's lifecycle stages: `Contact.lifecycle_stage` holds its key. Later
    `order` is further along the buyer journey; `meaning` is what Cue reads."""

    key = models.CharField(max_length=64, unique=True, validators=[stage_key_validator])
    label = models.CharField(max_length=100)
    order = models.PositiveIntegerField()
    meaning = models.CharField(max_length=16, choices=LifecycleMeaning.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class Pipeline(models.Model):
    """One of the customer's opportunity pipelines. An opportunity with no pipeline is in
    the default one (so rows from before pipelines existed need no rewrite)."""

    key = models.CharField(max_length=64, unique=True, validators=[stage_key_validator])
    label = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_default", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="pipeline_one_default",
                violation_error_message="Another pipeline is already the default.",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class PipelineStage(models.Model):
    """A stage of a pipeline: `Opportunity.stage` holds its key. A move to a later `order`
    is a move forward; `meaning` says whether the deal is still open, won or lost."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    key = models.CharField(max_length=64, validators=[stage_key_validator])
    label = models.CharField(max_length=100)
    order = models.PositiveIntegerField()
    meaning = models.CharField(max_length=8, choices=StageMeaning.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "key"],
                name="pipeline_stage_key_unique",
                violation_error_message="This pipeline already has a stage with this key.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline}: {self.label}"


class EventType(models.TextChoices):
    """The behaviour events Cue knows. Custom types are allowed too (lowercase slugs)."""

    FORM_SUBMIT = "form_submit", "Form submitted"
    WEBINAR_REGISTERED = "webinar_registered", "Registered for a webinar"
    WEBINAR_ATTENDED = "webinar_attended", "Attended a webinar"
    PRICING_VIEW = "pricing_view", "Viewed pricing"
    DEMO_REQUEST = "demo_request", "Requested a demo"
    MEETING_BOOKED = "meeting_booked", "Booked a meeting"
    EMAIL_OPEN = "email_open", "Opened an email"
    EMAIL_CLICK = "email_click", "Clicked an email"
    EMAIL_REPLY = "email_reply", "Replied to an email"
    SMS_CLICK = "sms_click", "Clicked an SMS link"
    SMS_REPLY = "sms_reply", "Replied to an SMS"
    OPPORTUNITY_CREATED = "opportunity_created", "Opportunity created"
    STAGE_CHANGED = "stage_changed", "Stage changed"
    LIFECYCLE_STAGE_CHANGED = "lifecycle_stage_changed", "Lifecycle stage changed"


validate_event_type = RegexValidator(
    r"^[a-z][a-z0-9_]{1,62}$",
    "An event type is a lowercase slug: letters, digits and underscores, e.g. trial_started.",
)


class Event(models.Model):
    """Something a contact did. Stored once per idempotency key; handed to journeys and
    routing after commit (handled_at marks that every handler has seen it).

    Partitioned by month of `occurred_at` on PostgreSQL (EVENTS, apps.core.partitions): the
    idempotency key is kept unique by a key table, and what points at an event does so
    without a database constraint (Django carries out on_delete)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64, validators=[validate_event_type])
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "type", "occurred_at"], name="event_contact_type_at"),
            models.Index(fields=["type", "occurred_at"], name="event_type_at"),
            # The admin's newest-first list and its source filter read these, not the table.
            models.Index(fields=["occurred_at", "id"], name="event_recent"),
            models.Index(fields=["source"], name="event_source"),
            models.Index(
                fields=["received_at"], condition=Q(handled_at=None), name="event_unhandled"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M}"


# On PostgreSQL, by month (apps.core.partitions): retention drops a month at a time, and a
# time range is read from its months only. `occurred_at` is never ahead of the clock by more
# than contacts.events.FUTURE_TOLERANCE, so the months made ahead always take it.
EVENTS = Partitioned("contacts_event", "occurred_at", ("idempotency_key",))
PARTITIONED_TABLES = (EVENTS,)


class EventHandlerFailure(models.Model):
    """One registered handler that failed on one event: the event stays unhandled, and the
    sweep runs this handler (and no other) on it again, up to MAX_ATTEMPTS times.

    A row exists only while a handler fails (and, after the last attempt, as the record of
    what was given up): millions of events handled at the first try write nothing here."""

    MAX_ATTEMPTS = 5

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="handler_failures", db_constraint=False
    )
    handler = models.CharField(max_length=100)
    attempts = models.PositiveIntegerField(default=1)
    last_error = models.TextField()
    failed_at = models.DateTimeField()

    class Meta:
        ordering = ["-failed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "handler"], name="event_handler_failure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.handler} failed on event {self.event_id} ({self.attempts}×)"

    @property
    def given_up(self) -> bool:
        return self.attempts >= self.MAX_ATTEMPTS


class EventWeight(models.Model):
    """How much an event type says about buying intent, and how fast that fades."""

    type = models.CharField(max_length=64, unique=True, validators=[validate_event_type])
    weight = models.FloatField(help_text="Points one event adds to the intent score.")
    half_life_days = models.FloatField(
        default=14, help_text="After this many days an event counts half as much."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-weight"]
        constraints = [
            models.CheckConstraint(
                condition=Q(half_life_days__gt=0),
                name="event_weight_half_life_positive",
                violation_error_message="The half-life must be more than zero days.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type}: {self.weight:g}"


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes / no"
    DATE = "date", "Date"
    DATETIME = "datetime", "Date and time"
    CHOICE = "choice", "Choice"
    LIST = "list", "List of text"


class AttributeObject(models.TextChoices):
    CONTACT = "contact", "Contact"
    COMPANY = "company", "Company"
    OPPORTUNITY = "opportunity", "Opportunity"


validate_attribute_key = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$",
    "A key is a lowercase slug: letters, digits and underscores, starting with a letter, "
    "e.g. plan or seats_bought.",
)


class AttributeDefinition(models.Model):
    """A custom attribute the customer added to contacts, companies or opportunities.

    Values live in the object's `attributes` JSON, keyed by `key`, checked on every write
    by `apps.contacts.attributes.attributes_validate`. Key, type and object are fixed once
    created: stored values were checked against them, and segments cast by the type."""

    object_type = models.CharField(
        max_length=16, choices=AttributeObject.choices, default=AttributeObject.CONTACT
    )
    key = models.CharField(max_length=63, validators=[validate_attribute_key])
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=AttributeType.choices)
    options = models.JSONField(
        default=list, blank=True, help_text='The allowed values of a choice, e.g. ["free", "pro"].'
    )
    pii = models.BooleanField(
        default=False,
        help_text="Personal data: masked in logs, exported and erased with the contact.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["object_type", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "key"],
                name="attribute_definition_unique_key",
                violation_error_message="This object already has an attribute with this key.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type}.attr.{self.key}"

    def clean(self) -> None:
        if self.type == AttributeType.CHOICE:
            options = self.options if isinstance(self.options, list) else None
            if not options or not all(isinstance(o, str) and o.strip() for o in options):
                raise ValidationError({"options": "A choice needs a list of option names."})
            if len(set(options)) != len(options):
                raise ValidationError({"options": "Each option may appear once."})
        elif self.options:
            raise ValidationError({"options": "Only a choice has options."})


def segment_rules_default() -> dict:
    return {"all": []}


class Segment(models.Model):
    """A rule-based dynamic group of contacts, compiled to one SQL query."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    rules = models.JSONField(
        default=segment_rules_default, help_text='A rule group: {"all": [...]} or {"any": [...]}.'
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def contacts(self):
        from apps.contacts.segments import segment_contacts

        return segment_contacts(rules=self.rules, segment_id=self.pk)


class ContactImport(models.Model):
    """An uploaded CSV of contacts, imported row by row in the background with a report."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded, waiting for a column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    mapping = models.JSONField(default=dict, blank=True, help_text="CSV column → contact field.")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    rejected_rows = models.JSONField(
        default=list, blank=True, help_text="[{line, reason, row}] for each rejected row."
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class OpportunityImport(models.Model):
    """An uploaded CSV of opportunities, imported row by row in the background with a report
    (apps/contacts/opportunity_imports). Rows that carry the opportunity's external id update
    that opportunity; rows without one create a new one."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded, waiting for a column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/opportunities/%Y/%m/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    mapping = models.JSONField(
        default=dict, blank=True, help_text="CSV column → opportunity field."
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    rejected_rows = models.JSONField(
        default=list, blank=True, help_text="[{line, reason, row}] for each rejected row."
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class ContactMerge(models.Model):
    """One merge of a duplicate contact into a survivor: who, why, and what moved. The
    duplicate row is gone; its id stays here, so an old link to it finds the survivor."""

    survivor = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges_in")
    duplicate_id = models.BigIntegerField(unique=True)
    duplicate_label = models.CharField(max_length=300, help_text="The duplicate, as it read.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    moved = models.JSONField(default=dict, help_text="{rows: how many moved}")
    filled = models.JSONField(default=list, help_text="The survivor's fields filled from it.")
    notes = models.JSONField(default=list, blank=True)
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"Contact {self.duplicate_id} merged into {self.survivor_id}"


class DataSubjectRequest(models.Model):
    """One export or erasure of a person's data: who, when, why and how many rows of each
    kind, never the data itself. An erased contact's row stays (anonymised), so the id
    here still leads to it; it is a plain id so that a merge or a contact's history never
    has to move or protect these rows."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASURE = "erasure", "Erasure"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    contact_id = models.BigIntegerField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    format = models.CharField(max_length=8, blank=True, help_text="An export's: json or csv.")
    counts = models.JSONField(default=dict, help_text="{kind of rows: how many}")
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "data-subject request"
        permissions = [
            ("export_personal_data", "Can export everything Cue holds about a contact"),
            ("erase_personal_data", "Can erase a contact's personal data"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact_id"],
                condition=Q(kind="erasure"),
                name="data_subject_request_one_erasure",
                violation_error_message="This contact has already been erased.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of contact {self.contact_id}"
