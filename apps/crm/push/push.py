"""Pushes a CRM's due outbox rows: tasks one by one (each keeps the CRM's id, so a retry
updates and never duplicates), SMS activities in batches, consent changes to the mapped
field.

Each batch is claimed with a conditional UPDATE and a token, so two workers never push the
same row, and a worker that dies lets its claim lapse. A CRM that asks Cue to wait, or is
down, defers the rest of the batch (as told, or with backoff); a row the CRM refuses is
kept with its error, never blocking the others, and is retried from the admin once the
mapping is fixed.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone

from apps.contacts.models import ContactExternalId
from apps.crm.adapters import (
    ActivityOut,
    CrmAdapter,
    CrmError,
    CrmRateLimited,
    CrmRecordRefused,
    TaskOut,
)
from apps.crm.connections import adapter_for
from apps.crm.mapping import OPT_OUT
from apps.crm.models import (
    Connection,
    CrmOwner,
    Direction,
    FieldMapping,
    ObjectType,
    OutboxItem,
    System,
)
from apps.crm.sync.errors import record_error_keep, record_errors_resolve

CLAIM = timedelta(minutes=5)
BATCH = 100
MAX_BACKOFF = timedelta(hours=1)
Kind, Status = OutboxItem.Kind, OutboxItem.Status


def outbox_push(*, system: str, adapter: CrmAdapter | None = None, limit: int = 1000) -> dict:
    """Pushes up to `limit` due rows; counts of sent, failed (refused) and deferred."""
    adapter = adapter or adapter_for(system)
    counts = {"sent": 0, "failed": 0, "deferred": 0}
    while sum(counts.values()) < limit:
        items = _claim(system, BATCH)
        if not items:
            break
        pending = {item.pk: item for item in items}
        try:
            _push(adapter, system, items, pending, counts)
        except CrmError as error:
            _defer(list(pending.values()), error)
            counts["deferred"] += len(pending)
            break
    Connection.objects.update_or_create(
        system=system, defaults={"last_sync_out_at": timezone.now()}
    )
    return counts


def _claim(system: str, size: int) -> list[OutboxItem]:
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = OutboxItem.objects.filter(
        free, system=system, status=Status.PENDING, next_attempt_at__lte=now
    )
    ids = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:size])
    token = secrets.token_hex(16)
    OutboxItem.objects.filter(free, pk__in=ids, status=Status.PENDING).update(
        claim=token, claimed_until=now + CLAIM, attempts=F("attempts") + 1
    )
    return list(OutboxItem.objects.filter(claim=token).order_by("id"))


def _push(adapter, system, items, pending, counts) -> None:
    people = _person_ids(system, {item.contact_id for item in items})
    activities = [i for i in items if i.kind == Kind.ACTIVITY]
    if activities:
        _activities_push(adapter, system, activities, people, pending, counts)
    for item in items:
        if item.kind == Kind.TASK:
            _task_push(adapter, system, item, people, pending, counts)
        elif item.kind == Kind.CONSENT:
            _consent_push(adapter, system, item, people, pending, counts)


def _person_ids(system: str, contact_ids: set[int]) -> dict[int, str]:
    rows = ContactExternalId.objects.filter(source=system, contact_id__in=contact_ids)
    return dict(rows.values_list("contact_id", "value"))


def _person_type(system: str, record_id: str) -> str:
    """Salesforce ids say what they are: 00Q… is a Lead."""
    if system == System.SALESFORCE and record_id.startswith("00Q"):
        return ObjectType.LEAD
    return ObjectType.CONTACT


def _task_push(adapter, system, item, people, pending, counts) -> None:
    person = people.get(item.contact_id)
    if person is None:
        return _refused(
            system, item, "The contact has no record in the CRM any more.", pending, counts
        )
    payload = item.payload
    owner = CrmOwner.objects.filter(system=system, user_id=payload["owner_user_id"])
    task = TaskOut(
        key=item.key,
        contact_record_id=person,
        owner_record_id=owner.values_list("record_id", flat=True).first(),
        subject=payload["subject"],
        body=payload["body"],
        due_at=_when(payload["due_at"]) or timezone.now(),
        priority=payload["priority"],
        completed=payload["completed"],
        time_zone=_owner_time_zone(payload["owner_user_id"]),
        retry=item.attempts > 1 and not item.record_id,
    )
    try:
        record_id = adapter.task_save(task, item.record_id or None)
    except CrmRecordRefused as error:
        return _refused(system, item, str(error), pending, counts)
    # The CRM's id is kept at once, whatever happens next: a retry must update, not create.
    OutboxItem.objects.filter(pk=item.pk).update(record_id=record_id)
    _sent(system, item, pending, counts, record_id)


def _owner_time_zone(user_id: int | None) -> str:
    """The task owner's zone; the business's for a task with no owner (a team queue's)."""
    users = get_user_model().objects.filter(pk=user_id) if user_id else None
    zone = users.values_list("time_zone", flat=True).first() if users is not None else None
    return zone or settings.CUE_ROUTING_BUSINESS_HOURS["time_zone"]


def _activities_push(adapter, system, items, people, pending, counts) -> None:
    sendable = [item for item in items if item.contact_id in people]
    for item in items:
        if item.contact_id not in people:
            _refused(
                system, item, "The contact has no record in the CRM any more.", pending, counts
            )
    if not sendable:
        return
    results = adapter.activities_log([_activity_of(item, people) for item in sendable])
    by_key = {result.key: result for result in results}
    for item in sendable:
        result = by_key.get(item.key)
        if result is None:
            continue  # not answered: stays claimed, and is pushed again when the claim lapses
        if result.error:
            _refused(system, item, result.error, pending, counts)
        else:
            _sent(system, item, pending, counts, result.record_id or "")


def _activity_of(item: OutboxItem, people: dict[int, str]) -> ActivityOut:
    payload = item.payload
    return ActivityOut(
        key=item.key,
        contact_record_id=people[item.contact_id],
        at=_when(payload["at"]),
        direction=payload["direction"],
        status=payload["status"],
        body=payload["body"],
        journey=payload.get("journey", ""),
        template=payload.get("template", ""),
        # Claimed before and never marked sent: that attempt may have landed unconfirmed.
        retry=item.attempts > 1,
    )


def _consent_push(adapter, system, item, people, pending, counts) -> None:
    person = people.get(item.contact_id)
    if person is None:
        return _sent(system, item, pending, counts, "")  # nothing to write it on
    object_type = _person_type(system, person)
    # Only the fields mapped on this object: a Lead's field may not exist on a Contact.
    fields = FieldMapping.objects.filter(
        system=system, object_type=object_type, cue_field=OPT_OUT, direction__in=("out", "both")
    ).values_list("crm_field", flat=True)
    if not fields:
        return _sent(system, item, pending, counts, "")
    properties = dict.fromkeys(fields, bool(item.payload["opted_out"]))
    try:
        adapter.record_update(object_type, person, properties)
    except CrmRecordRefused as error:
        return _refused(system, item, str(error), pending, counts)
    _sent(system, item, pending, counts, person)


def _sent(system, item, pending, counts, record_id: str) -> None:
    """Marked sent only if its payload did not change meanwhile (then it is due again)."""
    now = timezone.now()
    OutboxItem.objects.filter(pk=item.pk, claim=item.claim, version=item.version).update(
        status=Status.SENT, sent_at=now, claimed_until=None, last_error=""
    )
    OutboxItem.objects.filter(pk=item.pk, claim=item.claim).update(claimed_until=None)
    record_errors_resolve(
        system=system, direction=Direction.OUT, object_type=item.kind, record_ids=[item.key]
    )
    pending.pop(item.pk, None)
    counts["sent"] += 1


def _refused(system, item, error: str, pending, counts) -> None:
    OutboxItem.objects.filter(pk=item.pk, claim=item.claim).update(
        status=Status.FAILED, claimed_until=None, last_error=error
    )
    record_error_keep(
        system=system, direction=Direction.OUT, object_type=item.kind, record_id=item.key,
        error=error, record={"key": item.key, "payload": item.payload},
    )  # fmt: skip
    pending.pop(item.pk, None)
    counts["failed"] += 1


def _defer(items: list[OutboxItem], error: CrmError) -> None:
    now = timezone.now()
    for item in items:
        if isinstance(error, CrmRateLimited):
            wait = timedelta(seconds=error.retry_after)
        else:
            wait = min(timedelta(seconds=30 * 2 ** min(item.attempts, 10)), MAX_BACKOFF)
        OutboxItem.objects.filter(pk=item.pk, claim=item.claim).update(
            next_attempt_at=now + wait, claimed_until=None, last_error=str(error)[:500]
        )


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def outbox_item_retry(*, system: str, key: str) -> int:
    """A refused row is due again (after its mapping or record was fixed)."""
    return OutboxItem.objects.filter(system=system, key=key, status=Status.FAILED).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), last_error=""
    )
