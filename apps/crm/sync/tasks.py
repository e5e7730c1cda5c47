"""CRM tasks Cue created for follow-ups, read back by the sync: one completed in the CRM
completes the Cue task with its outcome (a rep may work in either place).

The outcome is read from the task's `cue_outcome` field when the team adds one (a value or
label of Cue's outcomes, e.g. "meeting_booked"); otherwise a completed task counts as
"connected". A task closed in Cue first keeps Cue's outcome.
"""

from apps.crm.adapters import CrmRecord
from apps.crm.models import CrmOwner, OutboxItem
from apps.crm.sync.context import SyncContext
from apps.crm.sync.tally import Tally
from apps.routing.models.choices import Outcome
from apps.routing.services.work import Completion, task_complete_elsewhere

DONE = {"completed", "complete", "done", "closed"}
OUTCOMES = {**{o.value: o.value for o in Outcome}, **{o.label.lower(): o.value for o in Outcome}}


def tasks_apply(context: SyncContext, object_type: str, records: list[CrmRecord]) -> Tally:
    tally = Tally()
    ours = dict(
        OutboxItem.objects.filter(
            system=context.system,
            kind=OutboxItem.Kind.TASK,
            record_id__in=[r.id for r in records],
        ).values_list("record_id", "payload__task_id")
    )
    owners = dict(
        CrmOwner.objects.filter(system=context.system, user__isnull=False).values_list(
            "record_id", "user"
        )
    )
    for record in records:
        task_id = ours.get(record.id)
        if task_id is None or not task_completed(record):
            tally.add("skipped")
            continue
        completion = Completion(outcome=_outcome(record), note=f"Completed in {context.system}")
        owner = record.properties.get("hubspot_owner_id") or record.properties.get("OwnerId")
        done = task_complete_elsewhere(
            task_id=int(task_id),
            completion=completion,
            where=context.system,
            actor=_user(owners.get(owner)),
        )
        tally.add("updated" if done else "unchanged", record.id)
    return tally


def task_completed(record: CrmRecord) -> bool:
    props = record.properties
    if props.get("IsClosed") is True:
        return True
    status = props.get("hs_task_status") or props.get("Status") or ""
    return str(status).strip().lower() in DONE


def _outcome(record: CrmRecord) -> str:
    given = str(record.properties.get("cue_outcome") or "").strip().lower()
    return OUTCOMES.get(given, Outcome.CONNECTED)


def _user(user_id: int | None):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first() if user_id else None
