"""Reads of the inbox: what a user may see, the filters and counts, one conversation's
thread, the facts a rep needs before answering, and the SLA figures."""

from dataclasses import dataclass
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Team, User
from apps.consent.models import Channel, Purpose
from apps.consent.selectors import address_is_suppressed, consent_status
from apps.inbox.models import Conversation, ConversationStatus, ResponseWait
from apps.sends.models import InboundMessage, OutboundMessage
from apps.sends.quiet_hours.recipient import Recipient, recipient_window

VIEWS = {
    "mine": "Mine",
    "team": "My team's",
    "unassigned": "Unassigned",
    "all": "All I can see",
}
THREAD_LIMIT = 200


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    """Compliance and admins read all; a manager their teams' and the unassigned; a rep
    their own, their team's queue and the unassigned (so no text waits unseen)."""
    everything = Conversation.objects.select_related("contact", "assigned_user", "assigned_team")
    if not user.is_active or not user.has_perm("inbox.view_conversation"):
        return everything.none()
    if user.has_perm("inbox.view_all_conversations"):
        return everything
    nobody = Q(assigned_user=None) & (Q(assigned_team=None) | Q(assigned_team_id=user.team_id))
    seen = Q(assigned_user=user) | nobody
    managed = list(Team.objects.filter(manager=user).values_list("pk", flat=True))
    if managed:
        seen |= Q(assigned_team_id__in=managed) | Q(assigned_user__team_id__in=managed)
    return everything.filter(seen)


def conversations_in_view(user: User, view: str, *, waiting_first: bool) -> QuerySet:
    rows = conversations_visible_to(user)
    if view == "mine":
        rows = rows.filter(assigned_user=user)
    elif view == "team":
        rows = rows.filter(assigned_team_id__in=_team_ids(user))
    elif view == "unassigned":
        rows = rows.filter(assigned_user=None)
    if waiting_first:  # waiting longest first; then the rest, newest first
        return rows.order_by(F("waiting_since").asc(nulls_last=True), "-last_message_at")
    return rows.order_by("-last_message_at")


def _team_ids(user: User) -> list[int]:
    managed = list(Team.objects.filter(manager=user).values_list("pk", flat=True))
    return managed + ([user.team_id] if user.team_id else [])


def inbox_counts(user: User, now: datetime) -> dict[str, int]:
    """The numbers on the inbox's tabs, in one query."""
    visible = conversations_visible_to(user).exclude(status=ConversationStatus.CLOSED)
    counts = visible.aggregate(
        mine=Count("pk", filter=Q(assigned_user=user)),
        team=Count("pk", filter=Q(assigned_team_id__in=_team_ids(user))),
        unassigned=Count("pk", filter=Q(assigned_user=None)),
        all=Count("pk"),
        unread=Count("pk", filter=Q(status=ConversationStatus.UNREAD)),
        waiting=Count("pk", filter=Q(waiting_since__isnull=False)),
        breached=Count("pk", filter=Q(response_due_at__lt=now)),
    )
    return {name: value or 0 for name, value in counts.items()}


@dataclass(frozen=True)
class ThreadEntry:
    at: datetime
    kind: str  # inbound, outbound, note or status (closed or reopened, by whom)
    text: str
    detail: str  # an outbound text's status (and why not sent), a note's author


def conversation_thread(conversation: Conversation) -> list[ThreadEntry]:
    """Texts both ways and the notes, oldest first (the latest THREAD_LIMIT of them)."""
    inbound = InboundMessage.objects.filter(
        from_address=conversation.their_address, to_address=conversation.our_address
    ).order_by("-received_at")[:THREAD_LIMIT]
    outbound = OutboundMessage.objects.filter(to_address=conversation.their_address).order_by(
        "-created_at"
    )[:THREAD_LIMIT]
    entries = [ThreadEntry(m.received_at, "inbound", m.body, _keyword_note(m)) for m in inbound]
    entries += [ThreadEntry(m.created_at, "outbound", m.body, outbound_state(m)) for m in outbound]
    entries += [
        ThreadEntry(n.created_at, "note", n.body, n.author.display_name)
        for n in conversation.notes.select_related("author")
    ]
    entries += [
        ThreadEntry(change.at, "status", change.words, "")
        for change in conversation.status_changes.select_related("actor")
    ]
    return sorted(entries, key=lambda e: e.at)[-THREAD_LIMIT:]


def _keyword_note(message: InboundMessage) -> str:
    if message.keyword_kind and message.keyword_kind != "none":
        return f"{message.keyword or message.keyword_kind}: {message.outcome}".strip(": ")
    return ""


def outbound_state(message: OutboundMessage) -> str:
    """The text's status in words, with the gate's reason when it did not go (yet)."""
    state = message.get_status_display()
    if message.reason and message.decision and message.decision != "allow":
        when = ""
        if message.next_attempt_at:
            zone = _zone(message.contact)
            local = timezone.localtime(message.next_attempt_at, zone)
            when = f"; it will go at {local:%a %H:%M} ({zone.key})"
        return f"{state}: {message.reason}{when}"
    return state


def _zone(contact) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(contact, "time_zone", "") or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class ContactFacts:
    owner: str
    stage: str
    consent: str
    local_time: str
    quiet_hours: str  # empty when texting now is inside their window


def contact_facts(conversation: Conversation, now: datetime) -> ContactFacts | None:
    contact = conversation.contact
    if contact is None:
        return None
    window = recipient_window(recipient=Recipient.of(contact, conversation.their_address), at=now)
    zones = [ZoneInfo(key) for key in window.zones] or [ZoneInfo("UTC")]
    local = ", ".join(f"{timezone.localtime(now, z):%a %H:%M} ({z.key})" for z in zones[:3])
    return ContactFacts(
        owner=contact.owner.display_name if contact.owner_id else "No owner",
        stage=contact.get_lifecycle_stage_display(),
        consent=_consent_words(contact, conversation.their_address),
        local_time=local,
        quiet_hours="" if window.allowed else _quiet_words(window, zones[0]),
    )


def _quiet_words(window, zone: ZoneInfo) -> str:
    if window.next_allowed_at is None:
        return f"Held: {window.reason}"
    opens = timezone.localtime(window.next_allowed_at, zone)
    return f"Quiet hours: {window.reason}; a text now would go at {opens:%a %H:%M} ({zone.key})"


def _consent_words(contact, address: str) -> str:
    if address_is_suppressed(address=address, channel=Channel.SMS):
        return "Opted out (STOP): only answers they ask for"
    status = consent_status(contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING)
    labels = {"opted_in": "Marketing texts: opted in", "pending": "Marketing: awaiting YES"}
    return labels.get(status, "Marketing texts: no consent (replies only)")


@dataclass(frozen=True)
class InboxFigures:
    answered: int
    median_first_response_minutes: float | None
    breached_answered: int
    breached_waiting: int


def inbox_figures(*, since: datetime, now: datetime, team_id: int | None = None) -> InboxFigures:
    """First responses since `since`: how many, the median wait, and the SLA breaches
    (answered late, and still waiting past due now)."""
    waits = ResponseWait.objects.filter(started_at__gte=since)
    if team_id is not None:
        waits = waits.filter(team_id=team_id)
    answered = list(
        waits.exclude(answered_at=None).values_list("started_at", "answered_at", "due_at")
    )
    minutes = [(done - start).total_seconds() / 60 for start, done, _ in answered]
    return InboxFigures(
        answered=len(answered),
        median_first_response_minutes=round(median(minutes), 1) if minutes else None,
        breached_answered=sum(1 for _, done, due in answered if done > due),
        breached_waiting=waits.filter(answered_at=None, due_at__lt=now).count(),
    )


def inbox_open_counts(*, now: datetime) -> dict[str, int]:
    """Every open conversation (not closed), those nobody holds, and those waiting past
    their SLA now: the dashboard's inbox line, in one query."""
    counts = Conversation.objects.exclude(status=ConversationStatus.CLOSED).aggregate(
        open=Count("pk"),
        unassigned=Count("pk", filter=Q(assigned_user=None)),
        overdue=Count("pk", filter=Q(response_due_at__lt=now)),
    )
    return {name: value or 0 for name, value in counts.items()}


def replies_unfiled(*, since: datetime) -> QuerySet[InboundMessage]:
    """Texts received since `since` whose pair of numbers has no conversation, oldest first."""
    filed = Conversation.objects.filter(
        their_address=OuterRef("from_address"), our_address=OuterRef("to_address")
    )
    return (
        InboundMessage.objects.filter(received_at__gte=since)
        .filter(~Exists(filed))
        .order_by("received_at", "pk")
    )
