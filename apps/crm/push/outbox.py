"""Outbox rows for what a connected CRM should hear of, written in the transaction of the
change (the hooks run inside it), and pushed after commit.

Only people the CRM knows (a contact with an external id of that system) are reported:
an SMS or a task needs a CRM record to hang on.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.consent.hooks import ConsentChange
from apps.consent.models import Channel, ConsentStatus, Purpose
from apps.contacts.models import ContactExternalId
from apps.core.queue import task_send
from apps.crm.connections import connection_configured
from apps.crm.mapping import OPT_OUT
from apps.crm.models import FieldMapping, OutboxItem, System
from apps.journeys.models import Journey
from apps.routing.hooks import TaskChange
from apps.routing.models import FollowUpTask
from apps.sends.hooks import LinkClicked, MessageOutcome, ReplyReceived
from apps.sends.models import (
    SECRET_BODY,
    SECRET_SEND_KEY_PREFIXES,
    MessageStatus,
    OutboundMessage,
)

ACTIVITY_STATUS = {
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.UNDELIVERED: "failed",
    MessageStatus.FAILED: "failed",
}
PRIORITY = {1: "high", 2: "high", 3: "normal", 4: "low"}
Kind = OutboxItem.Kind


def crm_listening() -> bool:
    return any(connection_configured(system) for system in System.values)


def _connected() -> list[str]:
    return [system for system in System.values if connection_configured(system)]


def _known(system: str, contact_ids) -> set[int]:
    rows = ContactExternalId.objects.filter(source=system, contact_id__in=set(contact_ids))
    return set(rows.values_list("contact_id", flat=True))


def _write(system: str, items: list[OutboxItem], *, replace: bool = False) -> None:
    """Adds the rows; with `replace`, a row already there for the key takes the new payload
    and is due again (a task completed after it was created)."""
    if not items:
        return
    now = timezone.now()
    for item in items:
        item.system, item.next_attempt_at = system, now
    if replace:
        for item in items:
            updated = OutboxItem.objects.filter(system=system, key=item.key).update(
                payload=item.payload, status=OutboxItem.Status.PENDING, next_attempt_at=now,
                last_error="", version=F("version") + 1,
            )  # fmt: skip
            if not updated:
                OutboxItem.objects.bulk_create([item], ignore_conflicts=True)
    else:
        OutboxItem.objects.bulk_create(items, ignore_conflicts=True)
    transaction.on_commit(lambda: push_enqueue(system))


def push_enqueue(system: str) -> None:
    from apps.crm.tasks import push

    task_send(push, system)


def tasks_changed(changes: list[TaskChange]) -> None:
    tasks = {
        row["pk"]: row
        for row in FollowUpTask.objects.filter(pk__in=[c.task_id for c in changes]).values(
            "pk", "reason", "signal_type", "intent"
        )
    }
    for system in _connected():
        known = _known(system, [c.contact_id for c in changes])
        items = [
            OutboxItem(
                kind=Kind.TASK,
                key=f"task:{change.task_id}",
                contact_id=change.contact_id,
                payload={
                    "task_id": change.task_id,
                    "subject": f"Cue follow-up: {tasks[change.task_id]['reason']}"[:250],
                    "body": _task_body(tasks[change.task_id], change),
                    "due_at": change.due_at.isoformat() if change.due_at else None,
                    "priority": PRIORITY.get(change.priority, "normal"),
                    "owner_user_id": change.owner_id,
                    "completed": change.completed_at is not None,
                    "outcome": change.outcome,
                },
            )
            for change in changes
            if change.contact_id in known and change.task_id in tasks
        ]
        _write(system, items, replace=True)


def _task_body(task: dict, change: TaskChange) -> str:
    lines = [task["reason"], f"Signal: {task['signal_type']}"]
    if task["intent"]:
        lines.append(f"Intent: {task['intent']}")
    if change.outcome:
        lines.append(f"Outcome: {change.outcome}")
    return "\n".join(lines)


def messages_outcome(outcomes: list[MessageOutcome]) -> None:
    wanted = [o for o in outcomes if o.status in ACTIVITY_STATUS and o.message.contact_id]
    if not wanted:
        return
    rows = OutboundMessage.objects.filter(pk__in=[o.message.message_id for o in wanted])
    # A one-time code is for its recipient only: the CRM gets the placeholder.
    bodies = {
        pk: SECRET_BODY if send_key.startswith(SECRET_SEND_KEY_PREFIXES) else body
        for pk, body, send_key in rows.values_list("pk", "body", "send_key")
    }
    journeys = _journey_names(o.message.journey_id for o in wanted)
    for system in _connected():
        known = _known(system, [o.message.contact_id for o in wanted])
        _write(
            system,
            [
                _activity(
                    key=o.key,
                    contact_id=o.message.contact_id,
                    at=o.at,
                    direction="outbound",
                    status=ACTIVITY_STATUS[o.status],
                    body=bodies.get(o.message.message_id, ""),
                    journey=journeys.get(o.message.journey_id, ""),
                    template=o.message.template_name,
                )
                for o in wanted
                if o.message.contact_id in known
            ],
        )


def replies_received(replies: list[ReplyReceived]) -> None:
    wanted = [r for r in replies if r.contact_id]
    for system in _connected():
        known = _known(system, [r.contact_id for r in wanted])
        _write(
            system,
            [
                _activity(
                    key=r.key,
                    contact_id=r.contact_id,
                    at=r.received_at,
                    direction="inbound",
                    status="replied",
                    body=r.body,
                    template=r.in_reply_to.template_name if r.in_reply_to else "",
                )
                for r in wanted
                if r.contact_id in known
            ],
        )


def links_clicked(clicks: list[LinkClicked]) -> None:
    wanted = [c for c in clicks if c.message.contact_id]
    journeys = _journey_names(c.message.journey_id for c in wanted)
    for system in _connected():
        known = _known(system, [c.message.contact_id for c in wanted])
        _write(
            system,
            [
                _activity(
                    key=c.key,
                    contact_id=c.message.contact_id,
                    at=c.at,
                    direction="inbound",
                    status="clicked",
                    body=f"Clicked {c.destination}",
                    journey=journeys.get(c.message.journey_id, ""),
                    template=c.message.template_name,
                )
                for c in wanted
                if c.message.contact_id in known
            ],
        )


def consent_changed(changes: list[ConsentChange]) -> None:
    wanted = [c for c in changes if c.channel == Channel.SMS and c.purpose == Purpose.MARKETING]
    for system in _connected():
        if not _writes_consent(system) or not wanted:
            continue
        known = _known(system, [c.contact_id for c in wanted])
        items = [
            OutboxItem(
                kind=Kind.CONSENT,
                key=change.key,
                contact_id=change.contact_id,
                payload={
                    "opted_out": change.new_status == ConsentStatus.OPTED_OUT,
                    "at": change.at.isoformat(),
                },
            )
            for change in wanted
            if change.contact_id in known
        ]
        _write(system, items)


def _writes_consent(system: str) -> bool:
    return FieldMapping.objects.filter(
        system=system, cue_field=OPT_OUT, direction__in=("out", "both")
    ).exists()


def _activity(*, key, contact_id, at, direction, status, body, journey="", template=""):
    return OutboxItem(
        kind=Kind.ACTIVITY,
        key=key,
        contact_id=contact_id,
        payload={
            "at": (at or timezone.now()).isoformat(), "direction": direction, "status": status,
            "body": body, "journey": journey, "template": template,
        },
    )  # fmt: skip


def _journey_names(ids) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(Journey.objects.filter(pk__in=wanted).values_list("pk", "name"))
