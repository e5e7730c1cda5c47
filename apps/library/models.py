from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from apps.library.errors import LibraryError
from apps.library.placeholders import placeholders_errors


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Purpose(models.TextChoices):
    """The one job a message does in a journey."""

    CONFIRM = "confirm", "Confirm"
    REMIND = "remind", "Remind"
    PROGRESS = "progress", "Progress"
    DECIDE = "decide", "Decide"
    REACTIVATE = "reactivate", "Reactivate"
    ONBOARD = "onboard", "Onboard"
    ALERT = "alert", "Alert"


class Category(models.TextChoices):
    """Marketing needs marketing consent and passes stricter lint; transactional does not."""

    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"

    @classmethod
    def open(cls) -> list[str]:
        """Statuses of the one version per template still being worked on."""
        return [cls.DRAFT, cls.SUBMITTED]

    @classmethod
    def may_become(cls, current: str, new: str) -> bool:
        return new == current or new in _NEXT_STATUSES.get(current, ())


_NEXT_STATUSES = {
    VersionStatus.DRAFT: (VersionStatus.SUBMITTED,),
    VersionStatus.SUBMITTED: (VersionStatus.APPROVED, VersionStatus.REJECTED),
    VersionStatus.APPROVED: (VersionStatus.RETIRED,),
}


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ReviewRole(models.TextChoices):
    """The capacity a reviewer decided in: the approver, or the optional compliance step."""

    APPROVER = "approver", "Approver"
    COMPLIANCE = "compliance", "Compliance"


class MessageTemplate(models.Model):
    """A named message (SMS or email) with one job in a journey. What is sent is its
    `current_version`: the approved, immutable version; edits happen in a new draft."""

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.MARKETING)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_templates",
    )
    tags = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated, e.g. webinar, onboarding."
    )
    current_version = models.ForeignKey(
        "library.TemplateVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The approved version that is sent.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="template_name_unique",
                violation_error_message="Another template already has this name.",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="template_channel_known",
                violation_error_message="Unknown channel.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values),
                name="template_category_known",
                violation_error_message="Unknown category.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @staticmethod
    def categories_needing_compliance() -> list[str]:
        """Transactional is a claim about content (no marketing consent needed), so compliance
        approves it too; with CUE_REQUIRE_COMPLIANCE_APPROVAL, marketing as well."""
        if settings.CUE_REQUIRE_COMPLIANCE_APPROVAL:
            return [Category.TRANSACTIONAL, Category.MARKETING]
        return [Category.TRANSACTIONAL]

    @property
    def needs_compliance_approval(self) -> bool:
        return self.category in self.categories_needing_compliance()


# What a version says. Once a version leaves draft, none of these may change again.
CONTENT_FIELDS = (
    "template_id", "number", "body", "html", "subject", "links", "defaults", "author_id",
)  # fmt: skip


class TemplateVersion(models.Model):
    """One numbered text of a template. A draft is edited; once submitted its content is
    frozen (here, in the services and by a database trigger) and it can only be approved,
    rejected, and later retired when a newer version is approved."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(
        blank=True,
        help_text="The text: an SMS, or an email's text part (blank: derived from the HTML).",
    )
    html = models.TextField(
        blank=True, help_text="Email only: the HTML part, sanitised when saved."
    )
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    links = models.JSONField(
        default=dict,
        blank=True,
        help_text='Tracked links: {"book": {"url": "https://…", "key": true}}. '
        "key=true marks a high-intent link that routing follows up.",
    )
    defaults = models.JSONField(
        default=dict,
        blank=True,
        help_text='Text used when a value is missing: {"contact.first_name": "there"}.',
    )
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="template_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    lint_findings = models.JSONField(
        default=list, blank=True, help_text="What the compliance lint found at submission."
    )
    worst_case_encoding = models.CharField(max_length=8, blank=True)
    worst_case_segments = models.PositiveSmallIntegerField(null=True, blank=True)
    worst_case_characters = models.PositiveIntegerField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["template", "-number"]
        permissions = [
            ("submit_templateversion", "Can submit a template version for review"),
            ("approve_templateversion", "Can approve or reject a template version"),
            ("approve_as_compliance", "Can approve or reject a template version as compliance"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"],
                name="template_version_number_unique",
                violation_error_message="This template already has a version with this number.",
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(status__in=["draft", "submitted"]),
                name="template_one_open_version",
                violation_error_message=(
                    "This template already has a draft or submitted version; finish that one first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values),
                name="template_version_status_known",
                violation_error_message="Unknown version status.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="template_version_submitted_at",
                violation_error_message="A version that left draft needs its submission time.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number} ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            self._check_frozen()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != VersionStatus.DRAFT:
            raise LibraryError(f"Version {self.number} is {self.status}; it is kept for the audit.")
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        errors = placeholders_errors(
            body=self.body, subject=self.subject, links=self.links, defaults=self.defaults,
            html=self.html,
        )  # fmt: skip
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in VersionStatus.open()

    @property
    def is_sendable(self) -> bool:
        """Approved, on the record: an approver's approval (and compliance's, for a
        transactional template) and no rejection. The database refuses the status without
        them; this also refuses rows written before it did, or a category changed since."""
        if self.status != VersionStatus.APPROVED:
            return False
        decisions = set(self.approvals.values_list("decision", "as_role"))
        required = {(Decision.APPROVED, ReviewRole.APPROVER)}
        if self.template.category == Category.TRANSACTIONAL:
            required.add((Decision.APPROVED, ReviewRole.COMPLIANCE))
        return required <= decisions and not any(
            decision == Decision.REJECTED for decision, _ in decisions
        )

    def _check_frozen(self) -> None:
        stored = type(self).objects.filter(pk=self.pk).values("status", *CONTENT_FIELDS).first()
        if stored is None:
            return
        if not VersionStatus.may_become(stored["status"], self.status):
            raise LibraryError(
                f"Version {self.number} is {stored['status']}; it cannot become {self.status}.",
                field="status",
            )
        if stored["status"] == VersionStatus.DRAFT:
            return
        changed = [name for name in CONTENT_FIELDS if getattr(self, name) != stored[name]]
        if changed:
            raise LibraryError(
                f"Version {self.number} is {stored['status']}, so its content can no longer "
                "change. Edit the template to start a new draft.",
                field=changed[0].removesuffix("_id"),
                code="immutable",
            )


class TemplateApproval(models.Model):
    """One reviewer's decision on one version, with why. Append-only: it is the audit
    record compliance reads, so the application and the database refuse to change it."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="approvals")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="template_approvals"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    as_role = models.CharField(max_length=16, choices=ReviewRole.choices)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "as_role"],
                name="template_approval_once_per_role",
                violation_error_message="This version already has a decision in this role.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer} as {self.as_role}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise LibraryError("A review decision is a record; it cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LibraryError("A review decision is a record; it cannot be deleted.")
