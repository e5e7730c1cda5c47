"""Stores what a Segment request sends: traits on contacts, calls as events, and every
message that cannot be stored as a rejection with its reason. One bad message never
costs the others: each profile call has its own savepoint, and the events go through the
events API's intake, which stores the good ones of a batch whatever the bad ones are."""

import json
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.contacts.api.event_input import ContactRef, EventItem
from apps.contacts.api.event_intake import ERROR, events_intake
from apps.contacts.errors import ContactsError
from apps.contacts.events import EventInput, event_input_check
from apps.contacts.models import ExternalIdSource
from apps.segment_intake.messages import (
    EVENT_TYPES,
    Rejected,
    SegmentMessage,
    event_properties_of,
    event_type_of,
    message_read,
)
from apps.segment_intake.models import SegmentRejection, SegmentWriteKey
from apps.segment_intake.profiles import PROFILE_HANDLERS, anonymous_contact_ids

SOURCE = "segment"
PAYLOAD_CHARS = 4096


def segment_messages_intake(
    *, write_key: SegmentWriteKey, messages: list, type_: str | None = None, sent_at=None
) -> Counter:
    """Stores `messages` (a batch's items, or the one message of a single call to the
    `type_` path); answers how many were stored and rejected."""
    now = timezone.now()
    rejections: list[tuple[object, str]] = []
    read: list[SegmentMessage] = []
    for raw in messages:
        try:
            read.append(message_read(raw, type_=type_, now=now, sent_at=sent_at))
        except Rejected as error:
            rejections.append((raw, error.reason))
    # Profile calls first, in order: a track later in the batch finds the contact an
    # identify made, and an alias links what an earlier identify named.
    for message in read:
        if message.type not in EVENT_TYPES:
            reason = _profile_store(message)
            if reason:
                rejections.append((message.raw, reason))
    rejections += _events_store([m for m in read if m.type in EVENT_TYPES], now)
    _rejections_record(write_key, rejections, now, type_)
    return Counter(stored=len(messages) - len(rejections), rejected=len(rejections))


def _profile_store(message: SegmentMessage, *, attempts: int = 2) -> str | None:
    """None once stored, else why not. A second attempt follows a refusal by the contact
    services: another request may have made the same new contact between look-up and
    insert, and the next attempt finds it; a real conflict is refused again."""
    try:
        with transaction.atomic():
            PROFILE_HANDLERS[message.type](message)
    except Rejected as error:
        return error.reason
    except ContactsError as error:
        if attempts > 1:
            return _profile_store(message, attempts=attempts - 1)
        return f"{error.field}: {error.message}" if error.field else error.message
    return None


def _events_store(messages: list[SegmentMessage], now: datetime) -> list[tuple[object, str]]:
    rejections, checked = [], []
    for message in messages:
        try:
            checked.append((message, _event_input(message, now)))
        except Rejected as error:
            rejections.append((message.raw, error.reason))
    anonymous = anonymous_contact_ids(
        {m.anonymous_id for m, _ in checked if m.user_id is None}, source=SOURCE
    )
    refs: dict[str, ContactRef] = {}
    items = [
        EventItem(index, event, _contact_ref(message, anonymous, refs), create_contact=True)
        for index, (message, event) in enumerate(checked)
    ]
    outcomes = events_intake(items=items, actor=None, may_create_contacts=True)
    for (message, _), outcome in zip(checked, outcomes, strict=True):
        if outcome.status == ERROR:
            rejections.append((message.raw, _errors_text(outcome.errors)))
    return rejections


def _event_input(message: SegmentMessage, now: datetime) -> EventInput:
    event = EventInput(
        None,  # type: ignore[arg-type]  # set by the intake, from the contact reference
        event_type_of(message),
        message.occurred_at,
        message.idempotency_key,
        event_properties_of(message),
        SOURCE,
    )
    try:
        event_input_check(event, now=now)
    except ContactsError as error:
        reason = f"{error.field}: {error.message}" if error.field else error.message
        raise Rejected(reason) from error
    return event


def _contact_ref(
    message: SegmentMessage, anonymous: dict[str, int], refs: dict[str, ContactRef]
) -> ContactRef:
    """The events of one userId share one reference (`refs`, by userId): a batch often
    holds many events of one user, and identity reads each reference."""
    if message.user_id is None:
        return ContactRef(id=anonymous[message.anonymous_id])
    ref = refs.get(message.user_id)
    if ref is None:
        ref = ContactRef(external_id=message.user_id, source=ExternalIdSource.SEGMENT)
        refs[message.user_id] = ref
    return ref


def _errors_text(errors: dict | None) -> str:
    return " ".join(f"{name}: {' '.join(texts)}" for name, texts in (errors or {}).items())


def _rejections_record(
    write_key, rejections: list[tuple[object, str]], now: datetime, type_: str | None
) -> None:
    if not rejections:  # bulk_create would open a transaction even for nothing
        return
    SegmentRejection.objects.bulk_create(
        [
            SegmentRejection(
                write_key=write_key,
                message_id=_field_text(raw, "messageId", 200),
                type=type_ or _field_text(raw, "type", 32),
                reason=reason,
                payload=json.dumps(raw)[:PAYLOAD_CHARS],
                received_at=now,
            )
            for raw, reason in rejections
        ]
    )


def _field_text(raw: object, name: str, max_length: int) -> str:
    value = raw.get(name) if isinstance(raw, dict) else None
    return str(value)[:max_length] if isinstance(value, str | int) else ""
