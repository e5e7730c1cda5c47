"""The routing app's parts of a data-subject request (registered in ready()).

Tasks stay (SLA reports count them) without the person: their reasons lose the person's
name and words, their context (which copies replies and event details) is emptied, and the
rep's notes go. Open tasks are cancelled: nobody should call an erased person. The texts
that told a rep about the task lose the person's name, and the CRM webhook payloads that
named the person lose every identifier.
"""

from django.db.models import Q

from apps.contacts.erasure.registry import ErasureContext, ErasurePart, erasure_part_register
from apps.contacts.erasure.rows import (
    history_count,
    history_export,
    history_scrub,
    rows_export,
    rows_scrub,
)
from apps.contacts.models import Contact
from apps.routing.models import (
    OPEN_STATUSES,
    FollowUpTask,
    TaskEscalation,
    TaskNotification,
    TaskSignal,
    TaskStatus,
    WebhookDelivery,
)
from apps.sends.models import OutboundMessage


def _tasks(contact: Contact):
    return FollowUpTask.objects.filter(contact=contact)


def _task_ids(contact: Contact) -> list[int]:
    return list(_tasks(contact).values_list("pk", flat=True))


def _tasks_export(contact: Contact) -> list[dict]:
    ids = _task_ids(contact)
    return (
        rows_export(_tasks(contact))
        + [{"signal": row} for row in rows_export(TaskSignal.objects.filter(task_id__in=ids))]
        + [
            {"escalation": row}
            for row in rows_export(TaskEscalation.objects.filter(task_id__in=ids))
        ]
        + [
            {"notification": row}
            for row in rows_export(TaskNotification.objects.filter(task_id__in=ids))
        ]
        + [{"history": row} for row in history_export(FollowUpTask, ids)]
    )


def _tasks_count(contact: Contact) -> int:
    ids = _task_ids(contact)
    related = sum(
        model.objects.filter(task_id__in=ids).count()
        for model in (TaskSignal, TaskEscalation, TaskNotification)
    )
    return len(ids) + related + history_count(FollowUpTask, ids)


def _tasks_erase(contact: Contact, context: ErasureContext) -> int:
    ids = _task_ids(contact)
    _tasks(contact).filter(status__in=OPEN_STATUSES).update(
        status=TaskStatus.CANCELED, completed_at=context.at
    )
    traces, text_fields = context.traces, ["reason", "assignment_note"]
    changed = rows_scrub(_tasks(contact), text_fields, traces, context={}, outcome_note="")
    history_scrub(FollowUpTask, ids, [*text_fields, "history_change_reason"], traces,
                  context={}, outcome_note="")  # fmt: skip
    rows_scrub(TaskSignal.objects.filter(task_id__in=ids), ["reason"], traces, context={})
    _notification_texts_scrub(ids, context)
    return changed


def _notification_texts_scrub(task_ids: list[int], context: ErasureContext) -> int:
    """The SMS that told a rep about the task named the person: the rep's copy stays, the
    person's name and words in it go."""
    sent = TaskNotification.objects.filter(task_id__in=task_ids, sms_message_id__isnull=False)
    texts = OutboundMessage.objects.filter(pk__in=sent.values("sms_message_id"))
    return rows_scrub(texts, ["body", "subject"], context.traces)


def _deliveries(contact: Contact):
    """Webhook events about the person: task and activity events carry the contact
    object, signal events its id."""
    return WebhookDelivery.objects.filter(
        Q(payload__contact__id=contact.pk) | Q(payload__contact_id=contact.pk)
    )


def _deliveries_erase(contact: Contact, context: ErasureContext) -> int:
    return rows_scrub(_deliveries(contact), ["payload", "last_error"], context.traces)


def routing_erasure_parts_register() -> None:
    erasure_part_register(
        "routing.tasks",
        ErasurePart(
            "Follow-up tasks, their signals, escalations and notifications",
            _tasks_export,
            _tasks_count,
            _tasks_erase,
        ),
    )
    erasure_part_register(
        "routing.webhook_deliveries",
        ErasurePart(
            "CRM webhook deliveries about them",
            lambda c: rows_export(_deliveries(c)),
            lambda c: _deliveries(c).count(),
            _deliveries_erase,
        ),
    )
