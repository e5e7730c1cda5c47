"""The recurring compliance audit: each check finds the messages (or tasks) of a period
that broke a rule that must never break. Each is one set-based query — except quiet hours,
whose rule (the recipient's candidate zones, state rules, personal window) only exists in
Python and is re-run on each sent message's send time, streamed.

Every check answers (count, first rows), the rows at most AuditFinding.ROW_LIMIT."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from apps.consent.models import ConsentAction, ConsentRecord, ConsentSource, Purpose, Suppression
from apps.library.models import VersionStatus
from apps.reporting.models import AuditCheck, AuditFinding
from apps.routing.models import FollowUpTask, TaskStatus
from apps.sends.models import (
    FrequencyCap,
    MessageCategory,
    MessageOrigin,
    MessageStatus,
    OutboundMessage,
)
from apps.sends.quiet_hours import Recipient, load_rules, recipient_window

LIMIT = AuditFinding.ROW_LIMIT
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPT_OUT_GRACE = timedelta(seconds=60)
# Origins that message a contact under consent; keyword replies, test sends to their
# composer and alerts to reps are outside consent by design.
CONSENTED_ORIGINS = [MessageOrigin.JOURNEY, MessageOrigin.REP_REPLY]
QUIET_HOURS_ORIGINS = [MessageOrigin.JOURNEY, MessageOrigin.REP_REPLY, MessageOrigin.DOUBLE_OPT_IN]
MESSAGE_ROW = ["id", "contact_id", "to_address", "sent_at", "category", "origin", "journey_id",
               "template_version_id"]  # fmt: skip


@dataclass(frozen=True)
class CheckResult:
    count: int
    rows: list[dict]
    note: str = ""


def _result(queryset, fields: list[str], note: str = "") -> CheckResult:
    return CheckResult(
        count=queryset.count(), rows=list(queryset.values(*fields)[:LIMIT]), note=note
    )


def _sent(start: datetime, end: datetime):
    return OutboundMessage.objects.filter(
        sent_at__gte=start, sent_at__lt=end, contact__isnull=False
    ).order_by("sent_at", "id")


def _ledger(purpose: str):
    return ConsentRecord.objects.filter(
        contact_id=OuterRef("contact_id"), channel=OuterRef("channel"), purpose=purpose
    )


def _needs_confirmation() -> Q:
    """Mirrors consent.services._needs_confirmation: web-form marketing SMS with double
    opt-in stays pending until confirmed."""
    return Q(channel="sms", purpose=Purpose.MARKETING, source=ConsentSource.WEB_FORM) & (
        Q(form__isnull=True) | Q(form__double_opt_in=True)
    )


def no_consent(start: datetime, end: datetime) -> CheckResult:
    """Marketing needs an active opt-in at the moment it was sent, replayed from the ledger:
    after the last opt-out (or address change) before it, an opt-in for the address it went
    to that needed no confirmation, or a confirmation of one that did. Transactional
    messages need no opt-out in force."""
    # Marketing consent also ends where the contact's address changed (consent binds the
    # address), and only an opt-in given for the address the message went to counts.
    ends = {
        Purpose.MARKETING: [ConsentAction.OPT_OUT, ConsentAction.NEW_ADDRESS],
        Purpose.TRANSACTIONAL: [ConsentAction.OPT_OUT],
    }
    last_out = {
        f"last_out_{purpose}": Subquery(
            _ledger(purpose)
            .filter(action__in=actions, occurred_at__lte=OuterRef("sent_at"))
            .order_by("-occurred_at", "-id")
            .values("occurred_at")[:1]
        )
        for purpose, actions in ends.items()
    }
    after_out = Coalesce(OuterRef("last_out_marketing"), Value(EPOCH))
    opted_in = _ledger(Purpose.MARKETING).filter(
        action=ConsentAction.OPT_IN,
        address=OuterRef("to_address"),
        occurred_at__gt=after_out,
        occurred_at__lte=OuterRef("sent_at"),
    )
    pending_opt_in = ConsentRecord.objects.filter(
        contact_id=OuterRef(OuterRef("contact_id")),
        channel=OuterRef(OuterRef("channel")),
        purpose=Purpose.MARKETING,
        action=ConsentAction.OPT_IN,
        address=OuterRef(OuterRef("to_address")),
        occurred_at__gt=Coalesce(OuterRef(OuterRef("last_out_marketing")), Value(EPOCH)),
        occurred_at__lte=OuterRef("occurred_at"),
    )
    confirmed = _ledger(Purpose.MARKETING).filter(
        Exists(pending_opt_in),
        action=ConsentAction.CONFIRM,
        occurred_at__gt=after_out,
        occurred_at__lte=OuterRef("sent_at"),
    )
    back_in_tx = _ledger(Purpose.TRANSACTIONAL).filter(
        action=ConsentAction.OPT_IN,
        occurred_at__gt=OuterRef("last_out_transactional"),
        occurred_at__lte=OuterRef("sent_at"),
    )
    marketing_ok = Exists(opted_in.exclude(_needs_confirmation())) | Exists(confirmed)
    offending = (
        _sent(start, end)
        .filter(origin__in=CONSENTED_ORIGINS)
        .annotate(**last_out)
        .filter(
            (Q(category=MessageCategory.MARKETING) & ~marketing_ok)
            | (
                Q(category=MessageCategory.TRANSACTIONAL, last_out_transactional__isnull=False)
                & ~Exists(back_in_tx)
            )
        )
    )
    return _result(offending, [*MESSAGE_ROW, "last_out_marketing", "last_out_transactional"])


def quiet_hours(start: datetime, end: datetime) -> CheckResult:
    """Re-runs the quiet-hours rule at each sent SMS's send time, in the recipient's zones."""
    messages = (
        _sent(start, end)
        .filter(channel="sms", origin__in=QUIET_HOURS_ORIGINS)
        .values_list(
            "id",
            "contact_id",
            "to_address",
            "sent_at",
            "origin",
            "journey_id",
            "contact__time_zone",
            "contact__region",
            "contact__country",
            "contact__preference__quiet_start",
            "contact__preference__quiet_end",
        )
    )
    rules, count, rows = load_rules(), 0, []
    for (
        message_id,
        contact_id,
        to,
        sent_at,
        origin,
        journey_id,
        zone,
        region,
        country,
        qs,
        qe,
    ) in messages.iterator(chunk_size=2000):
        recipient = Recipient.from_values(
            phone_e164=to,
            time_zone=zone,
            region=region,
            country=country,
            quiet_start=qs,
            quiet_end=qe,
        )
        decision = recipient_window(recipient=recipient, at=sent_at, rules=rules)
        if decision.allowed:
            continue
        count += 1
        if len(rows) < LIMIT:
            rows.append(
                {
                    "id": message_id,
                    "contact_id": contact_id,
                    "to_address": to,
                    "sent_at": sent_at,
                    "origin": origin,
                    "journey_id": journey_id,
                    "why": decision.reason,
                }
            )
    return CheckResult(count=count, rows=rows)


def caps_exceeded(start: datetime, end: datetime) -> CheckResult:
    """For each active cap: messages that were more than its maximum within its window
    (counting the message itself), by the moment each was sent."""
    count, rows = 0, []
    for cap in FrequencyCap.objects.filter(is_active=True).order_by("pk"):
        in_window = (
            OutboundMessage.objects.filter(
                contact_id=OuterRef("contact_id"),
                channel=cap.channel,
                category=cap.category,
                sent_at__gt=OuterRef("sent_at") - timedelta(hours=cap.window_hours),
                sent_at__lte=OuterRef("sent_at"),
            )
            .order_by()
            .values("contact_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        offending = (
            _sent(start, end)
            .filter(_cap_scope(cap), channel=cap.channel, category=cap.category)
            .annotate(in_window=Subquery(in_window))
            .filter(in_window__gt=cap.max_messages)
        )
        found = _result(offending, [*MESSAGE_ROW, "in_window"])
        count += found.count
        room = LIMIT - len(rows)
        rows += [{**row, "cap": str(cap), "cap_id": cap.pk} for row in found.rows[:room]]
    return CheckResult(count=count, rows=rows, note="One row per message and cap it exceeded.")


def _cap_scope(cap: FrequencyCap) -> Q:
    """Contacts a state cap covers: their address state or their phone's area code."""
    if not cap.region:
        return Q()
    codes = [code for code, state in load_rules().area_code_states.items() if state == cap.region]
    scope = Q(contact__region=cap.region)
    for code in codes:
        scope |= Q(to_address__startswith=f"+1{code}")
    return scope


def unapproved_version(start: datetime, end: datetime) -> CheckResult:
    """A template version counts as approved from its decision time, if it was approved
    (a retired version was approved until a newer one replaced it)."""
    approved = Q(
        template_version__status__in=[VersionStatus.APPROVED, VersionStatus.RETIRED],
        template_version__decided_at__lte=F("sent_at"),
    )
    offending = (
        _sent(start, end)
        .filter(template_version__isnull=False)
        .exclude(origin=MessageOrigin.TEST_SEND)
        .exclude(approved)
    )
    fields = [*MESSAGE_ROW, "template_version__status", "template_version__decided_at"]
    return _result(offending, fields)


def opt_out_not_honoured(start: datetime, end: datetime) -> CheckResult:
    """Marketing sent more than a minute after an opt-out with no opt-in since."""
    opted_out = Subquery(
        _ledger(Purpose.MARKETING)
        .filter(
            action=ConsentAction.OPT_OUT,
            occurred_at__lte=OuterRef("sent_at") - OPT_OUT_GRACE,
        )
        .order_by("-occurred_at", "-id")
        .values("occurred_at")[:1]
    )
    back_in = _ledger(Purpose.MARKETING).filter(
        action__in=[ConsentAction.OPT_IN, ConsentAction.CONFIRM],
        occurred_at__gt=OuterRef("opted_out_at"),
        occurred_at__lte=OuterRef("sent_at"),
    )
    offending = (
        _sent(start, end)
        .filter(category=MessageCategory.MARKETING)
        .annotate(opted_out_at=opted_out)
        .filter(opted_out_at__isnull=False)
        .exclude(Exists(back_in))
    )
    return _result(offending, [*MESSAGE_ROW, "opted_out_at"])


def address_suppressed(start: datetime, end: datetime) -> CheckResult:
    """Messages sent more than a minute after their address went on the suppression list
    (a STOP, an unsubscribe, a complaint), while it was still on it — to anyone, contact or
    not. The list's history says what was on it when; keyword replies (the STOP
    confirmation) are exempt by design."""
    on_list = {"channel": OuterRef("channel"), "address": OuterRef("to_key")}
    history = Suppression.history.model.objects.filter(**on_list)
    still_listed = Suppression.objects.filter(
        **on_list, created_at__lte=OuterRef("sent_at") - OPT_OUT_GRACE
    )
    added = Subquery(
        history.filter(history_type="+", history_date__lte=OuterRef("sent_at") - OPT_OUT_GRACE)
        .order_by("-history_date", "-history_id")
        .values("history_date")[:1]
    )
    removed_since = history.filter(
        history_type="-",
        history_date__gt=OuterRef("suppressed_at"),
        history_date__lte=OuterRef("sent_at"),
    )
    offending = (
        OutboundMessage.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .exclude(origin=MessageOrigin.KEYWORD_REPLY)
        .annotate(to_key=Lower("to_address"), suppressed_at=added)
        .filter((Q(suppressed_at__isnull=False) & ~Exists(removed_since)) | Exists(still_listed))
        .order_by("sent_at", "id")
    )
    return _result(offending, [*MESSAGE_ROW, "suppressed_at"])


def held_overdue(start: datetime, end: datetime) -> CheckResult:
    """Messages created in the period that are still held (zone or country unknown) longer
    than CUE_HELD_MESSAGE_EXPIRY_HOURS: the sweep should have ended them, and a journey
    waiting on one would be stuck."""
    cutoff = timezone.now() - timedelta(hours=settings.CUE_HELD_MESSAGE_EXPIRY_HOURS)
    offending = OutboundMessage.objects.filter(
        status=MessageStatus.HELD,
        created_at__gte=start,
        created_at__lt=min(end, cutoff),
    ).order_by("created_at", "id")
    return _result(offending, [*MESSAGE_ROW, "created_at", "reason_code"])


def tasks_breached(start: datetime, end: datetime) -> CheckResult:
    """Follow-up tasks due in the period that were not first touched in time."""
    now = timezone.now()
    offending = (
        FollowUpTask.objects.filter(due_at__gte=start, due_at__lt=end)
        .filter(
            Q(first_touch_at__gt=F("due_at"))
            | Q(first_touch_at__isnull=True, breached_at__isnull=False)
            | Q(first_touch_at__isnull=True, status=TaskStatus.OPEN, due_at__lt=now)
        )
        .order_by("due_at", "id")
    )
    fields = ["id", "contact_id", "owner_id", "team_id", "journey_id", "created_at", "due_at",
              "first_touch_at", "breached_at", "status"]  # fmt: skip
    return _result(offending, fields)


CHECKS: dict[str, Callable[[datetime, datetime], CheckResult]] = {
    AuditCheck.NO_CONSENT: no_consent,
    AuditCheck.QUIET_HOURS: quiet_hours,
    AuditCheck.CAP_EXCEEDED: caps_exceeded,
    AuditCheck.UNAPPROVED_VERSION: unapproved_version,
    AuditCheck.OPT_OUT_NOT_HONOURED: opt_out_not_honoured,
    AuditCheck.ADDRESS_SUPPRESSED: address_suppressed,
    AuditCheck.HELD_OVERDUE: held_overdue,
    AuditCheck.TASK_BREACHED: tasks_breached,
}
