import zoneinfo
from functools import cache

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # slow to list: read it once


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"{value!r} is not an IANA time zone, e.g. America/Chicago.")


class Team(models.Model):
    """A group of sales reps that routing can round-robin over, with its manager."""

    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. What they may do comes from their role (a Django group)."""

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    phone = PhoneNumberField(blank=True, help_text="For SMS alerts about new follow-up tasks.")
    phone_verified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the user proved they receive texts at this phone; cleared when it changes.",
    )
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    open_task_capacity = models.PositiveIntegerField(
        default=25, help_text="Routing skips a rep who already has this many open tasks."
    )
    sms_alerts = models.BooleanField(default=False)
    history = HistoricalRecords(excluded_fields=["password", "last_login"], m2m_fields=["groups"])

    class Meta:
        ordering = ["username"]

    def save(self, *args, **kwargs) -> None:
        # A sign-in stamps last_login alone: that is no change to audit (the sign-ins view
        # reads django-axes' access logs), so it leaves no history row.
        if set(kwargs.get("update_fields") or ()) == {"last_login"}:
            self.skip_history_when_saving = True
            try:
                return super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
        return super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def phone_is_verified(self) -> bool:
        return bool(self.phone) and self.phone_verified_at is not None


class PhoneVerification(models.Model):
    """One code texted to a user to prove the phone is theirs. Only a hash of the code is
    kept; it is good for one use, a few guesses and a few minutes, for this phone only."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_verifications")
    phone = PhoneNumberField()
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"code for {self.phone} ({self.created_at:%Y-%m-%d %H:%M})"


class WorkingHours(models.Model):
    """One working window on one weekday, in the user's own time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["user", "weekday", "starts_at"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="working_hours_end_after_start",
                violation_error_message="The end of working hours must be after the start.",
            ),
            models.UniqueConstraint(
                fields=["user", "weekday", "starts_at"], name="working_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class TokenLifetime(models.Model):
    """When an API token (rest_framework.authtoken) stops working and when it was last used.
    A token without one never expires (tokens made before expiry existed)."""

    token = models.OneToOneField(
        "authtoken.Token", on_delete=models.CASCADE, primary_key=True, related_name="lifetime"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token of {self.token.user_id}"


class RetiredToken(models.Model):
    """An API token that stopped working because someone rotated or revoked it: who, when,
    and the key's SHA-256 (never the key), so that a caller still using it is told why, and
    the audit trail shows the change."""

    class Reason(models.TextChoices):
        ROTATED = "rotated", "Rotated"
        REVOKED = "revoked", "Revoked"

    key_digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=8, choices=Reason.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["-at", "-id"], name="retired_token_newest")]

    def __str__(self) -> str:
        return f"token of {self.user_id} {self.reason}"


BRAND_ID = 1


class Brand(models.Model):
    """The account's one brand: the name lint demands in marketing SMS and every keyword
    reply starts with, how HELP answers, and the defaults a new opt-in form starts from.
    Read per use, so a change in the admin holds from the next message on."""

    name = models.CharField(max_length=100, help_text="Named in every marketing SMS.")
    help_reply = models.CharField(
        max_length=320,
        help_text="The answer to HELP/INFO; {brand} and {support} are filled in.",
    )
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=32, blank=True)
    optin_program_name = models.CharField(
        max_length=200, blank=True, help_text="A new opt-in form's program name."
    )
    optin_message_frequency = models.CharField(
        max_length=100,
        blank=True,
        help_text='A new opt-in form\'s frequency, e.g. "Up to 4 msgs/month".',
    )
    optin_privacy_url = models.URLField(blank=True)
    optin_terms_url = models.URLField(blank=True)
    postal_address = models.TextField(
        max_length=500,
        blank=True,
        help_text="The physical postal address every marketing email must show (CAN-SPAM).",
    )
    email_from_name = models.CharField(
        max_length=100, blank=True, help_text="The name email comes from. Empty: the brand's name."
    )
    email_from_address = models.EmailField(
        blank=True,
        help_text="The address email comes from, on a domain the ESP has verified. "
        "Empty: DEFAULT_FROM_EMAIL from the environment.",
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="brand_single_row",
                violation_error_message="One brand only.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def support(self) -> str:
        """How HELP points to a person: email, phone, or both."""
        return " or ".join(part for part in (self.support_email, self.support_phone) if part)

    def email_from(self, default: str) -> str:
        """The From of an email: "Name <address>", from the brand where it sets an address."""
        if not self.email_from_address:
            return default
        name = "".join(c for c in self.email_from_name or self.name if ord(c) >= 32)
        name = name.replace("\\", "\\\\").replace('"', '\\"')
        # Quoted as is: the mail library encodes a name that is not ASCII (RFC 2047).
        return f'"{name}" <{self.email_from_address}>' if name else self.email_from_address

    def help_text(self, program: "Program | None" = None) -> str:
        """HELP's answer: the program's own text if it has one, else the brand's."""
        template = (program.help_reply if program else "") or self.help_reply
        name = program.name if program else self.name
        return template.format(brand=self.name, program=name, support=self.support)

    def clean(self):
        _placeholders_check(self.help_reply, "help_reply")
        if any(ord(character) < 32 for character in self.email_from_name):
            message = "A name on one line, without control characters."
            raise ValidationError({"email_from_name": message})


def _placeholders_check(text: str, field: str) -> None:
    try:
        text.format(brand="", program="", support="")
    except (KeyError, IndexError, ValueError) as error:
        raise ValidationError(
            {field: f"Only {{brand}}, {{program}} and {{support}} can be filled in ({error})."}
        ) from error


class Program(models.Model):
    """One messaging program of the brand (e.g. "Fleet tips", "Service alerts") where a team
    runs several: its name opens its keyword replies and its senders are grouped by it."""

    name = models.CharField(max_length=100, unique=True)
    help_reply = models.CharField(
        max_length=320,
        blank=True,
        help_text="HELP for this program's senders; blank = the brand's. {brand}, {program} "
        "and {support} are filled in.",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        _placeholders_check(self.help_reply, "help_reply")
