"""SMS pumping guard for the hosted opt-in form. A form that texts a confirmation to any
number typed into it is what toll fraud ("SMS pumping") looks for: bots submit premium or
far-away numbers by the thousand and the sender pays for every text. Before a submission
that would ask for a YES, the number must be in an allowed country, and the number, its
prefix (every digit but the last four) and the whole account must be within their budgets
for the last 24 hours. A refused submission sends nothing; it is kept as a ConsentAttempt
(the number, why) and, once the account's daily ceiling is reached, admins get one alert."""

import logging
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.roles import ADMIN
from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentAttempt,
    ConsentRecord,
    ConsentSource,
    OptInForm,
    Purpose,
)

logger = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)
PREFIX_KEEPS_LAST = 4  # digits of a number that vary inside one operator's range
# Held while a submission counts the budgets and records its opt-in (apps.consent.optin).
CONFIRMATION_BUDGET_LOCK = "consent:optin-confirmation-budgets"


def optin_asks_confirmation(optin: OptInForm) -> bool:
    """Only a double opt-in form asking marketing consent texts the number it is given."""
    return optin.double_opt_in and Purpose.MARKETING in optin.purposes


def optin_pumping_refusal(*, optin: OptInForm, phone: str) -> tuple[str, str] | None:
    """(code, reason) when a confirmation text to `phone` (E.164) must not be sent."""
    if not optin_asks_confirmation(optin):
        return None
    country = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    if country not in _allowed_countries():
        return "pumping_country", f"Confirmation texts are not sent to numbers in {country}."
    since = timezone.now() - WINDOW
    confirmations = _confirmations_since(since)
    if confirmations.count() >= settings.CUE_OPTIN_SMS_DAILY_CEILING:
        _ceiling_alert()
        return "pumping_ceiling", "The daily number of confirmation texts has been reached."
    if confirmations.filter(address=phone).count() >= settings.CUE_OPTIN_SMS_PER_NUMBER:
        return "pumping_number", "This number has been sent enough confirmation texts today."
    prefix = phone[:-PREFIX_KEEPS_LAST]
    same_prefix = confirmations.filter(address__startswith=prefix)
    if same_prefix.count() >= settings.CUE_OPTIN_SMS_PER_PREFIX:
        return "pumping_prefix", f"Numbers starting {prefix} have been sent enough texts today."
    return None


def optin_pumping_record(*, optin: OptInForm, phone: str, code: str, reason: str) -> None:
    """The refused submission, kept as evidence (nothing else is written, nothing sent).
    The client's IP is not kept here: device evidence is Compliance's (the per-IP budget
    already limits one client)."""
    ConsentAttempt.objects.create(
        contact=None, address=phone, channel=Channel.SMS, purpose=Purpose.MARKETING,
        action=ConsentAction.OPT_IN, source=ConsentSource.WEB_FORM, reason_code=code,
        reason=reason[:300], note=f"Opt-in form {optin.slug}",
    )  # fmt: skip


def _allowed_countries() -> set[str]:
    return {code.upper() for code in settings.CUE_OPTIN_SMS_COUNTRIES}


def _confirmations_since(since) -> QuerySet[ConsentRecord]:
    """The opt-ins that asked for a YES: marketing SMS through a double opt-in form."""
    return ConsentRecord.objects.filter(
        source=ConsentSource.WEB_FORM, channel=Channel.SMS, purpose=Purpose.MARKETING,
        action=ConsentAction.OPT_IN, form__double_opt_in=True, occurred_at__gte=since,
    )  # fmt: skip


def _ceiling_alert() -> None:
    """Once a day: the ceiling stops every confirmation text, so a person must look."""
    if not cache.add(f"optin-ceiling-alert:{timezone.now():%Y-%m-%d}", 1, timeout=86400):
        return
    ceiling = settings.CUE_OPTIN_SMS_DAILY_CEILING
    logger.error("Opt-in confirmation texts reached the daily ceiling of %s", ceiling)
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=ADMIN, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        send_mail(
            "Cue: opt-in confirmation texts stopped at the daily ceiling",
            f"The hosted opt-in forms asked for {ceiling} confirmations in 24 hours "
            "(CUE_OPTIN_SMS_DAILY_CEILING). Further submissions are refused and kept as "
            "refused consent attempts until the count falls. A sudden rise is how SMS "
            "pumping looks: check the refused attempts before raising the ceiling.",
            None,
            recipients,
        )
