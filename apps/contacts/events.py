"""The one hand-off point from the CRM core to the apps above it.

`record_event` / `record_events` store each event once per idempotency key. After the
transaction commits, the stored events are handed (in batches, by a Celery task) to
`events_handle`, which first rescores intent (contacts' own step: every handler reads the
scores) and then runs the handlers that higher apps register here from
`AppConfig.ready()`, in their stated `order`:

    10  sends.double_opt_in   a YES confirms consent before anything reads it
    20  routing.signals       high-intent signals become follow-up tasks within minutes
    30  journeys              enrol, resume waits, exit on goals

Each handler runs in its own savepoint, so one failing handler holds back no other: the
others still get the event, and only the failed one is run on it again, by the periodic
sweep, up to EventHandlerFailure.MAX_ATTEMPTS times (a row per failure; none for the many
events handled at the first try). An event whose hand-off never ran (broker down, worker
died) keeps `handled_at` empty and is picked up by the same sweep, so nothing is lost.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from itertools import chain
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.contacts.errors import ContactsError, contact_erased_refusal
from apps.contacts.intent import intent_on_events
from apps.contacts.models import (
    EVENTS,
    Contact,
    Event,
    EventHandlerFailure,
    validate_event_type,
)
from apps.core.jsonio import json_dumps_bytes
from apps.core.partitions import is_partitioning, key_owners, keyed_insert_sql
from apps.core.queue import task_send

logger = logging.getLogger(__name__)

EventHandler = Callable[[list[Event]], None]
_handlers: dict[str, tuple[int, EventHandler]] = {}

MAX_PROPERTIES_BYTES = 16_384
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks differ
RETRY_AFTER = timedelta(minutes=5)  # a failed handler's next attempt, by the sweep


def event_handler_register(name: str, handler: EventHandler, *, order: int) -> None:
    """Registers `handler(events)`, run after the handlers of lower `order` (ties: by
    name); registering the same name again replaces it. Handlers must be idempotent: one
    may run again on an event after a crash, and the events a handler failed on are handed
    to it again."""
    _handlers[name] = (order, handler)


def event_handlers() -> dict[str, EventHandler]:
    """The handlers by name, in the order they run."""
    ranked = sorted(_handlers.items(), key=lambda item: (item[1][0], item[0]))
    return {name: handler for name, (_, handler) in ranked}


class ContactId(NamedTuple):
    """A contact named by its id alone: all that recording an event needs of it."""

    pk: int


@dataclass(slots=True)
class EventInput:
    """One event to record. Of its contact only the pk is read, so a ContactId will do."""

    contact: Contact | ContactId
    type: str
    occurred_at: datetime
    idempotency_key: str
    properties: dict = field(default_factory=dict)
    source: str = ""
    # Set by event_input_check, so that the properties are serialised once: sized, then stored.
    properties_json: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class EventRecorded:
    """The outcome for one input: its stored event (the original one for a repeated key)."""

    event_id: int
    created: bool

    @cached_property
    def event(self) -> Event:
        return Event.objects.get(pk=self.event_id)


def record_event(
    *,
    contact: Contact,
    type: str,
    occurred_at: datetime,
    idempotency_key: str,
    properties: dict | None = None,
    source: str = "",
) -> EventRecorded:
    item = EventInput(contact, type, occurred_at, idempotency_key, properties or {}, source)
    return record_events([item])[0]


@transaction.atomic
def record_events(items: list[EventInput], *, checked: bool = False) -> list[EventRecorded]:
    """Stores each event once; a repeated key returns the original and stores nothing.

    Set-based: one INSERT … ON CONFLICT DO NOTHING RETURNING for the batch (on PostgreSQL
    its equivalent through the key table, the table being partitioned), so a key raced in
    by another request is simply not ours, and the unique key decides.
    """
    if not checked:  # callers that ran event_input_check on each item say so
        now = timezone.now()
        for item in items:
            event_input_check(item, now=now)
    created = _events_insert(_first_of_each_key(items))
    keys = [item.idempotency_key for item in items]
    missing = [key for key in set(keys) if key not in created]
    existing = event_ids_by_key(missing) if missing else {}  # most batches are all new
    if created:
        created_ids = list(created.values())
        transaction.on_commit(lambda: _hand_off(created_ids))
    first_index: dict[str, int] = {}
    for index, key in enumerate(keys):
        first_index.setdefault(key, index)
    # Within one batch only the first item with a key counts as created.
    return [
        EventRecorded(created[key], True)
        if key in created and first_index[key] == index
        else EventRecorded(created.get(key) or existing[key], False)
        for index, key in enumerate(keys)
    ]


def event_ids_by_key(keys: list[str]) -> dict[str, int]:
    """{idempotency key: id of the event stored with it} for the keys stored."""
    if is_partitioning():  # one probe of the key table, not one per month
        return key_owners(EVENTS, "idempotency_key", keys)
    return dict(Event.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "pk"))


def event_input_check(item: EventInput, *, now: datetime | None = None) -> None:
    """Raises ContactsError naming the field when an event cannot be stored.

    A batch passes `now` so that the clock is read once for all of its events.
    """
    problem = _event_type_problem(item.type)
    if problem:
        raise ContactsError(problem, field="type")
    refusal = contact_erased_refusal(item.contact)  # a ContactId is checked by its caller
    if refusal is not None:
        raise refusal
    if not item.idempotency_key or len(item.idempotency_key) > 200:
        raise ContactsError("Give an idempotency key of 1–200 characters.", field="idempotency_key")
    if timezone.is_naive(item.occurred_at):
        raise ContactsError("occurred_at needs a time zone offset.", field="occurred_at")
    if item.occurred_at > (now or timezone.now()) + FUTURE_TOLERANCE:
        raise ContactsError("occurred_at is in the future.", field="occurred_at")
    if not isinstance(item.properties, dict):
        raise ContactsError("properties must be a JSON object.", field="properties")
    try:
        encoded = json_dumps_bytes(item.properties)
    except (TypeError, ValueError) as error:
        raise ContactsError("properties must be plain JSON.", field="properties") from error
    if len(encoded) > MAX_PROPERTIES_BYTES:
        raise ContactsError("properties is larger than 16 KB.", field="properties")
    item.properties_json = encoded.decode()


@lru_cache(maxsize=1024)
def _event_type_problem(type_: str) -> str | None:
    """Why a type is refused, or None; a batch mostly repeats a few types, hence the cache."""
    try:
        validate_event_type(type_)
    except ValidationError as error:
        return error.messages[0]
    return None


def _first_of_each_key(items: Iterable[EventInput]) -> list[EventInput]:
    seen: dict[str, EventInput] = {}
    for item in items:
        seen.setdefault(item.idempotency_key, item)
    return list(seen.values())


_INSERT_COLUMNS = "contact_id, type, occurred_at, received_at, properties, source, idempotency_key"
_INSERT_CHUNK = 2000
# From this many rows on, PostgreSQL takes them by COPY into a scratch table and one
# INSERT … SELECT from it: for 1000 rows about a third faster than parameters, which
# the client quotes one by one. A few rows stay one statement, one round trip.
_COPY_FROM_ROWS = 100


def _events_insert(items: list[EventInput]) -> dict[str, int]:
    """Inserts the events whose key is new; returns {key: id} for exactly those."""
    if not items:
        return {}
    rows = _event_rows(items)
    by_copy = connection.vendor == "postgresql" and len(rows) >= _COPY_FROM_ROWS
    insert = _insert_by_copy if by_copy else _insert_values
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_CHUNK):
            for pk, key in insert(cursor, rows[start : start + _INSERT_CHUNK]):
                created[key] = pk
    return created


def _event_rows(items: list[EventInput]) -> list[tuple]:
    adapt = _datetime_adapter()
    received_at = adapt(timezone.now())
    return [
        (
            item.contact.pk,
            item.type,
            adapt(item.occurred_at),
            received_at,
            item.properties_json or json_dumps_bytes(item.properties).decode(),
            item.source,
            item.idempotency_key,
        )
        for item in items
    ]


def _datetime_adapter() -> Callable[[datetime], object]:
    """How the database takes the checked (so aware) datetimes of a batch. On SQLite that
    is Django's own conversion without the checks of settings and awareness it repeats
    for every value: about a quarter of the cost of building a row."""
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone  # as timezone.make_naive(moment, zone) with USE_TZ on
    return lambda moment: str(moment.astimezone(zone).replace(tzinfo=None))


def _insert_by_copy(cursor, rows: list[tuple]) -> list[tuple]:
    # The scratch table lasts as long as the connection and is emptied at commit; the
    # INSERT also empties it as it reads it, for the next batch of the same transaction.
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS contacts_event_intake ("
        "contact_id bigint, type text, occurred_at timestamptz, received_at timestamptz,"
        " properties jsonb, source text, idempotency_key text) ON COMMIT DELETE ROWS"
    )
    with cursor.cursor.copy(f"COPY contacts_event_intake ({_INSERT_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    # COPY is PostgreSQL's, so the table is partitioned: its key table decides.
    cursor.execute(_keyed_insert("DELETE FROM contacts_event_intake RETURNING *"))
    return cursor.fetchall()


def _insert_values(cursor, rows: list[tuple]) -> list[tuple]:
    params = list(chain.from_iterable(rows))
    if is_partitioning():
        cursor.execute(_keyed_insert(f"VALUES {_placeholders(len(rows), _TYPED_ROW)}"), params)
    else:
        cursor.execute(
            f"INSERT INTO contacts_event ({_INSERT_COLUMNS}) VALUES {_placeholders(len(rows))} "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key",
            params,
        )
    return cursor.fetchall()


def _keyed_insert(rows: str) -> str:
    """A partitioned table has no unique index on the key to name as the conflict target:
    the rows whose key is new are inserted through its key table (apps.core.partitions)."""
    return keyed_insert_sql(EVENTS, "idempotency_key", tuple(_INSERT_COLUMNS.split(", ")), rows)


@lru_cache(maxsize=16)
def _placeholders(count: int, row: str = "(%s, %s, %s, %s, %s, %s, %s)") -> str:
    return ", ".join([row] * count)


# Rows read through a WITH would take the client's quoted values as text: typed here.
_TYPED_ROW = "(%s::bigint, %s, %s::timestamptz, %s::timestamptz, %s::jsonb, %s, %s)"


def _hand_off(event_ids: list[int]) -> None:
    from apps.contacts.tasks import events_hand_off

    task_send(events_hand_off, event_ids)  # lost: the sweep hands these events off later


def events_handle(*, event_ids: list[int]) -> int:
    """Rescores intent, then runs each handler on the events it still owes, then marks the
    events every handler is done with. Returns how many events were handed over.

    An event with no failure recorded is owed to every handler (its first hand-off, or one
    that died before marking: handlers are idempotent). An event with failures is owed only
    to the handlers that failed on it.
    """
    events = list(
        Event.objects.filter(pk__in=event_ids, handled_at=None)
        .select_related("contact")
        .order_by("occurred_at", "pk")
    )
    if not events:
        return 0
    owing = _failures_owed([event.pk for event in events])
    intent_on_events(events)
    errors: dict[tuple[int, str], str] = {}
    for name, handler in event_handlers().items():
        owed = [e for e in events if e.pk not in owing or name in owing[e.pk]]
        errors.update(_handler_run(name, handler, owed))
    _progress_record(events, errors)
    return len(events)


def _failures_owed(event_ids: list[int]) -> dict[int, set[str]]:
    """{event id: the handlers still to retry on it} for the events with failures."""
    owing: dict[int, set[str]] = {}
    failures = EventHandlerFailure.objects.filter(event_id__in=event_ids).values_list(
        "event_id", "handler", "attempts"
    )
    for event_id, handler, attempts in failures:
        owed = owing.setdefault(event_id, set())  # given up: owed to no one, but not new
        if attempts < EventHandlerFailure.MAX_ATTEMPTS:
            owed.add(handler)
    return owing


def _handler_run(name: str, handler: EventHandler, events: list[Event]) -> dict:
    """Runs the handler on the batch; when that fails, on each event alone, so that one bad
    event costs only itself. Returns {(event id, handler): error} for the events it failed."""
    if not events:
        return {}
    batch_error = _ran(handler, events)
    if batch_error is None:
        return {}
    errors = {}
    for event in events:
        error = batch_error if len(events) == 1 else _ran(handler, [event])
        if error is not None:
            logger.error("Event handler %s failed on event %s: %s", name, event.pk, error)
            errors[(event.pk, name)] = error
    return errors


def _ran(handler: EventHandler, events: list[Event]) -> str | None:
    """None when the handler ran; else its error (its writes are rolled back)."""
    try:
        with transaction.atomic():
            handler(events)
    except Exception as error:  # any handler's failure is recorded, never raised to the others
        return f"{type(error).__name__}: {error}"[:2000]
    return None


def _progress_record(events: list[Event], errors: dict[tuple[int, str], str]) -> None:
    """Records the failures and marks handled the events no handler still owes."""
    now = timezone.now()
    for (event_id, handler), error in errors.items():
        failure, created = EventHandlerFailure.objects.get_or_create(
            event_id=event_id,
            handler=handler,
            defaults={"last_error": error, "failed_at": now},
        )
        if not created:
            EventHandlerFailure.objects.filter(pk=failure.pk).update(
                attempts=F("attempts") + 1, last_error=error, failed_at=now
            )
    failed = {event_id for event_id, _ in errors}
    done = [event.pk for event in events if event.pk not in failed]
    # Whatever failed before and ran now is done; what failed for the last time is given up.
    EventHandlerFailure.objects.filter(event_id__in=done).exclude(
        attempts__gte=EventHandlerFailure.MAX_ATTEMPTS
    ).delete()
    given_up = _given_up(list(failed))
    Event.objects.filter(pk__in=[*done, *given_up], handled_at=None).update(handled_at=now)


def _given_up(event_ids: list[int]) -> list[int]:
    """The events whose every failure has had its last attempt."""
    open_ = EventHandlerFailure.objects.filter(
        event_id__in=event_ids, attempts__lt=EventHandlerFailure.MAX_ATTEMPTS
    ).values_list("event_id", flat=True)
    return sorted(set(event_ids) - set(open_))


def events_unhandled_sweep(*, older_than: timedelta = timedelta(minutes=2), limit=5000) -> int:
    """Hands off events whose after-commit hand-off never ran, and events a handler failed
    on once RETRY_AFTER has passed since (so five attempts span an outage of ~25 minutes)."""
    now = timezone.now()
    ids = list(
        Event.objects.filter(handled_at=None, received_at__lt=now - older_than)
        .exclude(handler_failures__failed_at__gt=now - RETRY_AFTER)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), 500):
        _hand_off(ids[start : start + 500])
    return len(ids)


@transaction.atomic
def handler_failures_retry_now(*, failure_ids: list[int]) -> int:
    """Makes the failures due at the sweep's next run instead of RETRY_AFTER after their
    last attempt (an admin fixed the cause). A failure that was given up gets one more
    attempt: its event is reopened for that handler alone, the others being done with it.
    Returns how many failures were made due."""
    failures = EventHandlerFailure.objects.select_for_update().filter(pk__in=failure_ids)
    given_up = failures.filter(attempts__gte=EventHandlerFailure.MAX_ATTEMPTS)
    reopened = list(given_up.values_list("event_id", flat=True))
    given_up.update(attempts=EventHandlerFailure.MAX_ATTEMPTS - 1)
    Event.objects.filter(pk__in=reopened).update(handled_at=None)
    return failures.update(failed_at=timezone.now() - RETRY_AFTER)
