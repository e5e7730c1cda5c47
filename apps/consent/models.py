from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from apps.contacts.erasure.traces import address_erased_key
from apps.contacts.models import Contact
from apps.contacts.phones import phone_text


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Purpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"


class ConsentAction(models.TextChoices):
    OPT_IN = "opt_in", "Opted in"
    OPT_OUT = "opt_out", "Opted out"
    CONFIRM = "confirm", "Confirmed (double opt-in)"
    # Consent belongs to the address it was given for: a new phone number or email starts
    # with none. (At most 8 characters: the column is that wide.)
    NEW_ADDRESS = "new_addr", "Address changed: consent not carried over"


class ConsentSource(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    KEYWORD = "keyword", "SMS keyword"
    IMPORT = "import", "Import"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    REP_VERBAL = "rep_verbal", "Verbal, recorded by a rep"
    CARRIER = "carrier", "Carrier"
    EMAIL_PROVIDER = "email_provider", "Email provider (bounce or complaint)"
    SYSTEM = "system", "Cue (automatic)"
    CRM_HUBSPOT = "crm:hubspot", "HubSpot (CRM sync)"
    CRM_SALESFORCE = "crm:salesforce", "Salesforce (CRM sync)"


class ConsentStatus(models.TextChoices):
    NONE = "none", "No consent"
    PENDING = "pending", "Awaiting confirmation"
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class AppendOnlyError(Exception):
    """The consent ledger is evidence: its rows are never changed or deleted."""


class ConsentRecordQuerySet(models.QuerySet):
    def of_contact(self, contact: Contact, channel: str):
        """The rows whose replay gives the contact's consent on `channel`: its own, and of
        the rows a merge brought from another contact only those for the address it has
        now. Consent binds the address: the duplicate's opt-in or opt-out for another
        number says nothing about this one (its number stays on the suppression list)."""
        current = phone_text(contact.phone) if channel == Channel.SMS else contact.email
        merged_here = Q(address__iexact=current) if current else Q(pk__in=[])
        return self.filter(contact=contact, channel=channel).filter(
            Q(merged_from=None) | merged_here
        )

    def update(self, **kwargs):
        raise AppendOnlyError("Consent records cannot be changed; record a new one instead.")

    def delete(self):
        raise AppendOnlyError("Consent records cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Consent records cannot be changed; record a new one instead.")


class ConsentDisclosure(models.Model):
    """The exact wording a person saw when they consented, kept by version forever."""

    key = models.SlugField(max_length=100)
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="disclosure_key_version")
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise AppendOnlyError("A disclosure version is immutable; create a new version.")
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """One entry of the append-only consent ledger, with its evidence.

    Inserts only: the queryset refuses update/delete, save() refuses an existing row,
    and database triggers refuse UPDATE (and DELETE on PostgreSQL).
    """

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="consent_records")
    address = models.CharField(max_length=254, help_text="The phone number or email consented.")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    action = models.CharField(max_length=8, choices=ConsentAction.choices)
    source = models.CharField(max_length=16, choices=ConsentSource.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    page_url = models.URLField(max_length=500, blank=True)
    disclosure = models.ForeignKey(
        ConsentDisclosure, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disclosure_text = models.TextField(blank=True, help_text="The exact wording shown.")
    form = models.ForeignKey(
        "consent.OptInForm", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inbound_message_sid = models.CharField(max_length=64, blank=True)
    keyword = models.CharField(max_length=160, blank=True)
    note = models.TextField(blank=True)
    merged_from = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The contact this row was recorded for, before a merge moved it here.",
    )

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        # Related-object access and deletion collectors use the base manager: make it the
        # append-only one too.
        base_manager_name = "objects"
        permissions = [("export_consent_proof", "Can export a contact's consent proof")]
        indexes = [
            models.Index(
                fields=["contact", "channel", "purpose", "occurred_at"], name="ledger_key"
            ),
            models.Index(fields=["address"], name="ledger_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.channel}/{self.purpose} via {self.source}"

    def save(self, *args, **kwargs):
        if self.pk or not self._state.adding:
            raise AppendOnlyError("Consent records cannot be changed; record a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Consent records cannot be deleted.")


class LedgerRepoint(models.Model):
    """Leave, inside one merge's transaction, to move one contact's ledger rows to another.

    The ledger's triggers let an UPDATE through only when it changes nothing but the
    contact (and notes the contact it came from) and a row here names that pair. The
    merge inserts and deletes it in its own transaction, so no other connection sees it."""

    from_contact_id = models.BigIntegerField()
    to_contact_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.from_contact_id} → {self.to_contact_id}"


class LedgerErasure(models.Model):
    """Leave, inside one erasure's transaction, to anonymise one contact's ledger rows.

    The ledger's triggers let such an UPDATE through only when a row here names the
    contact, the address becomes its keyed hash ("erased:…"), the evidence that identifies
    the person (IP, user agent, note; the page URL and keyword only by clearing them) is
    cleared, and nothing else of the row changes. The erasure inserts and deletes it in its
    own transaction, so no other connection ever sees it."""

    contact_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"Erasure of contact {self.contact_id}"


class ConsentState(models.Model):
    """The current consent of one contact for one channel and purpose, derived from the
    ledger in the same transaction as each new record."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_states")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    address = models.CharField(max_length=254)
    last_record = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="+")
    opted_in_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel", "purpose"], name="consent_state_unique"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "purpose", "status", "contact"], name="consent_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}: {self.get_status_display()}"


class SuppressionQuerySet(models.QuerySet):
    def of_address(self, address: str, channel: str) -> "SuppressionQuerySet":
        """The entries for this (normalised) address: under the address itself, and under
        the keyed hash an erasure keeps it as. Every look-up by address goes through here,
        so an erased person's STOP still binds the number and their START still lifts it."""
        return self.filter(channel=channel, address__in=[address, address_erased_key(address)])


class Suppression(models.Model):
    """An address Cue must never message, whether or not a contact has it."""

    class Reason(models.TextChoices):
        STOP_UNKNOWN_SENDER = "stop_unknown_sender", "STOP from a number with no contact"
        CARRIER_OPT_OUT = "carrier_opt_out", "Carrier reports the number unsubscribed"
        INVALID_NUMBER = "invalid_number", "Not a valid or not a mobile number"
        HARD_BOUNCE = "hard_bounce", "Email hard bounce"
        SOFT_BOUNCES = "soft_bounces", "Email soft-bounced too many times in a row"
        COMPLAINT = "complaint", "Complaint"
        MANUAL = "manual", "Added by a person"
        OPT_OUT_KEYWORD = "opt_out_keyword", "STOP (or another opt-out) from the number"
        EMAIL_UNSUBSCRIBE = "email_unsubscribe", "Unsubscribed from email"

    # The consumer's own revocations, bound to the address whoever owns it. Only the consumer
    # lifts them (a START/UNSTOP/YES from that number; Twilio lifts its 21610 block on START
    # too); no import, API call or person does. 47 CFR 64.1200(a)(10), as amended by FCC
    # 24-24 (2024): consent revoked "by any reasonable means" is revoked; CTIA Messaging
    # Principles and Best Practices (2023), opt-out: honour STOP for the number.
    CONSUMER_REVOCATIONS = frozenset(
        {
            Reason.STOP_UNKNOWN_SENDER,
            Reason.OPT_OUT_KEYWORD,
            Reason.CARRIER_OPT_OUT,
            Reason.COMPLAINT,
            Reason.EMAIL_UNSUBSCRIBE,
        }
    )

    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    address = models.CharField(max_length=254, help_text="E.164 phone number or email address.")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    source = models.CharField(max_length=16, choices=ConsentSource.choices)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="suppressions"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_unique")
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"

    @property
    def is_consumer_revocation(self) -> bool:
        return self.reason in self.CONSUMER_REVOCATIONS


class ConsentAttempt(models.Model):
    """A consent change Cue refused, kept as evidence that it was tried: e.g. an import or
    API call that would have re-subscribed a number its owner had revoked."""

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=254)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    action = models.CharField(max_length=8, choices=ConsentAction.choices)
    source = models.CharField(max_length=16, choices=ConsentSource.choices)
    reason_code = models.CharField(max_length=32)
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    attempted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["address"], name="consent_attempt_address")]

    def __str__(self) -> str:
        return f"Refused {self.get_action_display()} {self.channel} for {self.address}"


class Preference(models.Model):
    """What a contact wants to hear about, on which channels, and when."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="preference")
    sms_enabled = models.BooleanField(default=True)
    email_enabled = models.BooleanField(default=True)
    topics = models.JSONField(default=list, blank=True)
    quiet_start = models.TimeField(
        null=True, blank=True, help_text="Personal window start (can only narrow quiet hours)."
    )
    quiet_end = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(quiet_start=None) & Q(quiet_end=None))
                | Q(quiet_end__gt=F("quiet_start")),
                name="preference_window_ordered",
                violation_error_message="The window must end after it starts (both or neither).",
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.contact}"


class OptInForm(models.Model):
    """A hosted opt-in page at /optin/<slug>/ with the CTIA call to action."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=100)
    program_name = models.CharField(max_length=200)
    message_frequency = models.CharField(
        max_length=100, help_text='e.g. "Up to 4 msgs/month"', default="Up to 4 msgs/month"
    )
    help_contact = models.CharField(
        max_length=200, help_text="Where HELP points: an email or phone number."
    )
    privacy_url = models.URLField(blank=True)
    terms_url = models.URLField(blank=True)
    disclosure = models.ForeignKey(ConsentDisclosure, on_delete=models.PROTECT, related_name="+")
    double_opt_in = models.BooleanField(
        default=True, help_text="Marketing SMS consent stays pending until the person replies YES."
    )
    ask_email = models.BooleanField(default=True)
    purposes = models.JSONField(default=list, help_text='Purposes consented, e.g. ["marketing"].')
    is_active = models.BooleanField(default=True)
    success_message = models.CharField(
        max_length=300, default="Thanks! Reply YES to the text we just sent to confirm."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        unknown = set(self.purposes or []) - set(Purpose.values)
        if unknown or not self.purposes:
            raise ValidationError({"purposes": f"Choose from {', '.join(Purpose.values)}."})
