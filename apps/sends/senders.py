"""Who a text comes from: Twilio phone numbers, short codes, toll-free numbers and Messaging
Services, each with its carrier registration and its rate, and the pools a step draws from.
(Models; imported by apps.sends.models.)"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from apps.accounts.models import Program


class SenderKind(models.TextChoices):
    LONG_CODE = "long_code", "Phone number (10DLC)"
    SHORT_CODE = "short_code", "Short code"
    TOLL_FREE = "toll_free", "Toll-free number"
    MESSAGING_SERVICE = "messaging_service", "Messaging Service"


class Registration(models.TextChoices):
    PENDING = "pending", "Pending"
    CAMPAIGN_APPROVED = "campaign_approved", "10DLC campaign approved"
    TOLL_FREE_VERIFIED = "toll_free_verified", "Toll-free verified"
    SHORT_CODE_APPROVED = "short_code_approved", "Short code approved"
    REJECTED = "rejected", "Rejected"


# The registration that lets carriers accept marketing from each kind of sender. A Messaging
# Service sends from the numbers in it: its 10DLC campaign is what carriers approve.
APPROVAL_OF_KIND = {
    SenderKind.LONG_CODE: Registration.CAMPAIGN_APPROVED,
    SenderKind.SHORT_CODE: Registration.SHORT_CODE_APPROVED,
    SenderKind.TOLL_FREE: Registration.TOLL_FREE_VERIFIED,
    SenderKind.MESSAGING_SERVICE: Registration.CAMPAIGN_APPROVED,
}
_ADDRESS_OF_KIND = {
    SenderKind.LONG_CODE: (re.compile(r"\+[1-9][0-9]{6,14}"), "an E.164 number, e.g. +13125550100"),
    SenderKind.SHORT_CODE: (re.compile(r"[0-9]{5,6}"), "five or six digits, e.g. 55555"),
    SenderKind.TOLL_FREE: (
        re.compile(r"\+1(800|833|844|855|866|877|888)[0-9]{7}"),
        "a US toll-free number in E.164, e.g. +18885550100",
    ),
    SenderKind.MESSAGING_SERVICE: (
        re.compile(r"MG[0-9a-f]{32}"),
        "a Messaging Service SID: MG and 32 hex digits",
    ),
}


class Sender(models.Model):
    """One Twilio sender. Marketing goes only from a sender whose registration carriers
    approved (the gate's "sender" rule); every send is paced at its `mps`, shared by all
    workers. A retired sender (inactive) is no longer chosen, not even for a sticky contact."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SenderKind.choices)
    address = models.CharField(
        max_length=40, unique=True, help_text="The number, short code or Messaging Service SID."
    )
    registration = models.CharField(
        max_length=24, choices=Registration.choices, default=Registration.PENDING
    )
    mps = models.DecimalField(
        "messages per second",
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
        help_text="The rate carriers allow this sender; every send is paced to it.",
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="senders"
    )
    is_default = models.BooleanField(
        default=False, help_text="Used when a step names no sender or pool."
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="sender_one_default",
                violation_error_message="Another sender is the default already.",
            ),
            models.CheckConstraint(
                condition=Q(mps__gt=0),
                name="sender_mps_positive",
                violation_error_message="MPS must be above 0.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    def marketing_refusal(self) -> str:
        """Why carriers would filter marketing from this sender; empty when they would not."""
        wanted = APPROVAL_OF_KIND[self.kind]
        if self.registration == wanted:
            return ""
        return (
            f"{self.name} may not send marketing: its registration is "
            f"{self.get_registration_display()}, and a {self.get_kind_display()} needs "
            f"{Registration(wanted).label}."
        )

    def clean(self):
        pattern, example = _ADDRESS_OF_KIND.get(self.kind, (None, ""))
        if pattern and not pattern.fullmatch(self.address or ""):
            raise ValidationError({"address": f"A {self.get_kind_display()} address is {example}."})
        approved = set(APPROVAL_OF_KIND.values())
        if self.registration in approved and self.registration != APPROVAL_OF_KIND.get(self.kind):
            kind, status = self.get_kind_display(), self.get_registration_display()
            raise ValidationError({"registration": f"A {kind} cannot be {status}."})


class SenderPool(models.Model):
    """Senders a step may send from: a contact is given one of them (always the same one for
    the same number) until it has a sender it last heard from."""

    name = models.CharField(max_length=100, unique=True)
    senders = models.ManyToManyField(Sender, related_name="pools")
    history = HistoricalRecords(m2m_fields=[senders])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
