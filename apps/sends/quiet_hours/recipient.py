"""The recipient's window: one function, used by the gate, by dispatch for Twilio's
ValidityPeriod and by the compliance audit, so the three can never disagree about who may
be texted when (DESIGN.md invariants 3 and 12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings

from apps.sends.quiet_hours.check import (
    QuietHoursDecision,
    message_validity_seconds,
    quiet_hours_check,
)
from apps.sends.quiet_hours.rules import QuietHoursRules


@dataclass(frozen=True)
class Recipient:
    """Everything about a recipient that decides their sending window."""

    phone_e164: str | None
    time_zone: str | None = None
    region: str | None = None
    country: str = "US"
    personal_window: tuple[time, time] | None = None

    @classmethod
    def of(cls, contact, phone_e164: str | None) -> Recipient:
        """The recipient a message to ``phone_e164`` reaches, from its contact's fields."""
        return cls.from_values(
            phone_e164=phone_e164,
            time_zone=getattr(contact, "time_zone", None),
            region=getattr(contact, "region", None),
            country=getattr(contact, "country", None),
            quiet_start=getattr(_preference(contact), "quiet_start", None),
            quiet_end=getattr(_preference(contact), "quiet_end", None),
        )

    @classmethod
    def from_values(
        cls,
        *,
        phone_e164: str | None,
        time_zone: str | None,
        region: str | None,
        country: str | None,
        quiet_start: time | None,
        quiet_end: time | None,
    ) -> Recipient:
        """The same, from stored values (the audit reads them as rows, not objects)."""
        personal = (quiet_start, quiet_end) if quiet_start and quiet_end else None
        return cls(
            phone_e164=phone_e164 or None,
            time_zone=time_zone or None,
            region=region or None,
            country=country or "US",
            personal_window=personal,
        )


def _preference(contact):
    # A contact without a preference row (or an unsaved one, in the simulator) has none.
    return getattr(contact, "preference", None) if contact is not None else None


def recipient_window(
    *, recipient: Recipient, at: datetime, rules: QuietHoursRules | None = None
) -> QuietHoursDecision:
    """May a text reach this recipient at ``at``, and if not, when first?"""
    return quiet_hours_check(
        at=at,
        time_zone=recipient.time_zone,
        region=recipient.region,
        country=recipient.country,
        phone_e164=recipient.phone_e164,
        personal_window=recipient.personal_window,
        default_window=settings.CUE_QUIET_HOURS_DEFAULT,
        rules=rules,
    )


def recipient_validity_seconds(*, recipient: Recipient, at: datetime) -> int | None:
    """Twilio's ValidityPeriod for a text handed over at ``at``: the seconds until the
    recipient's window closes in the earliest-closing zone they could be in (1..36,000), or
    None when the moment is outside it."""
    return message_validity_seconds(decision=recipient_window(recipient=recipient, at=at))
