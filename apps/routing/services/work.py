"""What reps and managers do with a task: start it, reply by SMS, complete it with an outcome,
hand it back to the team queue, or (managers) reassign it. Every change is saved with its
actor and reason in the task's history, under the task's row lock."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Team, User
from apps.accounts.roles import SALES_REP
from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_out, preference_set
from apps.contacts.events import record_event
from apps.contacts.models import EventType
from apps.routing.errors import RoutingError
from apps.routing.hooks import COMPLETED, UPDATED, task_changes_fire
from apps.routing.models import (
    OPEN_STATUSES,
    AssignmentKind,
    FollowUpTask,
    NotificationKind,
    Outcome,
    TaskStatus,
    WebhookEvent,
)
from apps.routing.services.notifications import NotificationDraft, notifications_create
from apps.routing.services.webhooks import task_payload, webhook_event_enqueue
from apps.sends.models import Decision, MessageOrigin, OutboundMessage
from apps.sends.services.messages import message_create

WORK = "routing.work_followuptask"
REASSIGN = "routing.reassign_followuptask"
REPLY_MAX_CHARS = 1600


def teams_managed_by(user: User):
    return Team.objects.filter(manager=user)


def task_may_work(user: User, task: FollowUpTask) -> bool:
    """The owner works their task; the team's manager (and an admin) may work any of it."""
    if not user.is_active or not user.has_perm(WORK):
        return False
    if user.is_superuser or task.owner_id == user.pk:
        return True
    return user.has_perm(REASSIGN) and teams_managed_by(user).filter(pk=task.team_id).exists()


def task_may_reassign(user: User, task: FollowUpTask) -> bool:
    if not user.is_active or not user.has_perm(REASSIGN):
        return False
    return user.is_superuser or teams_managed_by(user).filter(pk=task.team_id).exists()


def _locked(task: FollowUpTask, actor: User, *, reassign: bool = False) -> FollowUpTask:
    locked = (
        FollowUpTask.objects.select_for_update(of=("self",))
        .select_related("contact", "team")
        .get(pk=task.pk)
    )
    allowed = task_may_reassign(actor, locked) if reassign else task_may_work(actor, locked)
    if not allowed:
        raise RoutingError("You may not do that with this task.", code="permission_denied")
    if locked.status not in OPEN_STATUSES:
        raise RoutingError(
            f"This task is already {locked.get_status_display().lower()}.", code="closed"
        )
    return locked


def _save(task: FollowUpTask, actor: User, reason: str, event: str = WebhookEvent.TASK_UPDATED):
    task._history_user = actor
    task._change_reason = reason[:100]
    task.save()
    task_changed_tell(task, reason, event)


def task_changed_tell(task: FollowUpTask, reason: str, event: str = WebhookEvent.TASK_UPDATED):
    """The task's webhook and its change hand-off (a CRM push), after a saved change."""
    webhook_event_enqueue(
        event=event, key=f"{event}:{task.pk}:{uuid.uuid4().hex}", data=task_payload(task)
    )
    change = COMPLETED if event == WebhookEvent.TASK_COMPLETED else UPDATED
    task_changes_fire([task.pk], change=change, reason=reason, at=timezone.now())


def _touch(task: FollowUpTask, now) -> None:
    task.first_touch_at = task.first_touch_at or now
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.IN_PROGRESS


@transaction.atomic
def task_start(*, task: FollowUpTask, actor: User) -> FollowUpTask:
    """The rep is on it: the SLA is met by this first touch."""
    task = _locked(task, actor)
    if task.status == TaskStatus.IN_PROGRESS:
        return task
    now = timezone.now()
    _touch(task, now)
    task.seen_at = task.seen_at or now
    _save(task, actor, f"Started by {actor.username}")
    return task


@dataclass(frozen=True)
class Completion:
    outcome: str
    note: str = ""
    opt_out_marketing: bool = False
    topics: list[str] | None = None


@transaction.atomic
def task_complete(*, task: FollowUpTask, actor: User, completion: Completion) -> FollowUpTask:
    """Closes the task with its outcome, and lets the outcome flow back: a booked meeting
    becomes a meeting_booked event (journeys end on it); "not interested" may record the
    contact's wishes — marketing opt-out only when the rep ticked the box."""
    if completion.outcome not in Outcome.values:
        raise RoutingError("Choose an outcome.", field="outcome")
    if completion.outcome != Outcome.NOT_INTERESTED and (
        completion.opt_out_marketing or completion.topics is not None
    ):
        raise RoutingError(
            "Opt-outs and topics go with the outcome “not interested”.", field="opt_out_marketing"
        )
    task = _locked(task, actor)
    now = timezone.now()
    task.first_touch_at = task.first_touch_at or now
    task.status, task.outcome, task.completed_at = TaskStatus.DONE, completion.outcome, now
    task.outcome_note = completion.note.strip()
    label = Outcome(completion.outcome).label
    _save(task, actor, f"Completed by {actor.username}: {label}", WebhookEvent.TASK_COMPLETED)
    _outcome_apply(task, actor, completion)
    return task


@transaction.atomic
def task_complete_elsewhere(
    *, task_id: int, completion: Completion, where: str, actor: User | None = None
) -> FollowUpTask | None:
    """The task was completed in another system (a CRM, seen by its sync): it closes here
    with that outcome, as if its rep had closed it. None when it is no longer open (closed
    in Cue first: Cue's outcome stands)."""
    if completion.outcome not in Outcome.values:
        raise RoutingError("Choose an outcome.", field="outcome")
    task = FollowUpTask.objects.select_for_update(of=("self",)).select_related("contact")
    task = task.get(pk=task_id)
    if task.status not in OPEN_STATUSES:
        return None
    now = timezone.now()
    task.first_touch_at = task.first_touch_at or now
    task.status, task.outcome, task.completed_at = TaskStatus.DONE, completion.outcome, now
    task.outcome_note = completion.note.strip()
    label = Outcome(completion.outcome).label
    _save(task, actor, f"Completed in {where}: {label}", WebhookEvent.TASK_COMPLETED)
    _outcome_apply(task, actor, completion, by=where)
    return task


def _outcome_apply(
    task: FollowUpTask, actor: User | None, completion: Completion, by: str = ""
) -> None:
    if completion.outcome == Outcome.MEETING_BOOKED:
        record_event(
            contact=task.contact,
            type=EventType.MEETING_BOOKED,
            occurred_at=task.completed_at,
            idempotency_key=f"task:{task.pk}:meeting_booked",
            source="routing",
            properties={"task_id": task.pk, "booked_by": actor.username if actor else by},
        )
        return
    if completion.outcome != Outcome.NOT_INTERESTED:
        return
    evidence = Evidence(actor=actor, note=f"Follow-up task {task.pk}: {completion.note}"[:500])
    if completion.opt_out_marketing:
        consent_opt_out(
            contact=task.contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.REP_VERBAL,
            evidence=evidence,
        )
    if completion.topics is not None:
        preference_set(contact=task.contact, topics=completion.topics)


@transaction.atomic
def task_hand_back(*, task: FollowUpTask, actor: User) -> FollowUpTask:
    """The rep can't take it: back to the team queue, and the manager hears of it."""
    task = _locked(task, actor)
    if task.owner_id is None:
        raise RoutingError("This task is already in the team queue.", code="queued")
    task.owner, task.status = None, TaskStatus.OPEN
    task.assignment, task.assigned_at = AssignmentKind.QUEUE, timezone.now()
    task.assignment_note = f"Handed back to the queue by {actor.display_name}."
    _save(task, actor, f"Handed back by {actor.username}")
    if task.team_id and task.team.manager_id:
        notifications_create(
            [NotificationDraft(task.pk, NotificationKind.QUEUED, task.team.manager_id, True, False)]
        )
    return task


def team_reps(team: Team | None):
    if team is None:
        return User.objects.none()
    return User.objects.filter(team=team, is_active=True, groups__name=SALES_REP).order_by(
        "first_name", "username"
    )


def reassign_choices(user: User, tasks: list[FollowUpTask]) -> dict[int, list[tuple[int, str]]]:
    """{team id: [(rep id, name)]} for the teams of `tasks` that `user` may reassign within,
    read in two queries whatever the number of tasks."""
    if not user.is_active or not user.has_perm(REASSIGN):
        return {}
    team_ids = {task.team_id for task in tasks if task.team_id}
    if not user.is_superuser:
        team_ids &= set(teams_managed_by(user).values_list("pk", flat=True))
    reps = User.objects.filter(team__in=team_ids, is_active=True, groups__name=SALES_REP)
    choices: dict[int, list[tuple[int, str]]] = {team_id: [] for team_id in team_ids}
    for rep in reps.order_by("first_name", "username"):
        choices[rep.team_id].append((rep.pk, rep.display_name))
    return choices


@transaction.atomic
def task_reassign(*, task: FollowUpTask, actor: User, to: User) -> FollowUpTask:
    """A manager gives the task to another rep of the same team."""
    task = _locked(task, actor, reassign=True)
    if not team_reps(task.team).filter(pk=to.pk).exists():
        raise RoutingError(f"{to.display_name} is not a rep in {task.team}.", field="owner")
    if task.owner_id == to.pk:
        return task
    now = timezone.now()
    task.owner, task.assignment, task.assigned_at, task.seen_at = (
        to,
        AssignmentKind.REASSIGNED,
        now,
        None,
    )
    task.assignment_note = f"Reassigned to {to.display_name} by {actor.display_name}."
    _save(task, actor, f"Reassigned to {to.username} by {actor.username}")
    rule = task.rule
    notifications_create(
        [
            NotificationDraft(
                task.pk,
                NotificationKind.REASSIGNED,
                to.pk,
                rule.notify_email if rule else True,
                rule.notify_sms if rule else True,
            )
        ]
    )
    return task


@transaction.atomic
def task_reply(*, task: FollowUpTask, actor: User, body: str, nonce: str) -> OutboundMessage:
    """A text from the rep to the contact, through the one policy gate. The form's nonce
    makes the send key, so a double-submitted form sends once. Only a text the gate lets
    through (now or later) counts as the first touch."""
    body = body.strip()
    if not body or len(body) > REPLY_MAX_CHARS:
        raise RoutingError(f"Write 1–{REPLY_MAX_CHARS} characters.", field="body")
    task = _locked(task, actor)
    message = message_create(
        send_key=f"rep-reply:{task.pk}:{nonce[:64]}",
        origin=MessageOrigin.REP_REPLY,
        category="transactional",
        contact=task.contact,
        body=body,
    )
    if message.decision in (Decision.ALLOW, Decision.DEFER) and not task.first_touch_at:
        _touch(task, timezone.now())
        _save(task, actor, f"Replied by SMS ({actor.username})")
    return message


def task_seen(*, task: FollowUpTask, actor: User) -> None:
    """The owner opened it: it no longer counts as new (no history row for a glance)."""
    if task.owner_id == actor.pk and task.seen_at is None:
        FollowUpTask.objects.filter(pk=task.pk, seen_at=None).update(seen_at=timezone.now())
