"""The one hand-off point from the CRM core to the apps above it.

`record_event` / `record_events` store each event once per idempotency key. After the
transaction commits, the stored events are handed (in batches, by a Celery task) to the
handlers that higher apps — journeys, routing — register here from `AppConfig.ready()`.
An event whose hand-off never ran (broker down, worker died) keeps `handled_at` empty and
is picked up again by the periodic sweep, so nothing is lost.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from itertools import chain
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, Event, validate_event_type
from apps.core.queue import task_send

EventHandler = Callable[[list[Event]], None]
_handlers: dict[str, EventHandler] = {}

MAX_PROPERTIES_BYTES = 16_384
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks differ


def event_handler_register(name: str, handler: EventHandler) -> None:
    """Registers `handler(events)`; registering the same name again replaces it."""
    _handlers[name] = handler


def event_handlers() -> dict[str, EventHandler]:
    return dict(_handlers)


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

    Set-based: one INSERT … ON CONFLICT DO NOTHING RETURNING for the batch, so a key
    raced in by another request is simply not ours, and the unique key decides.
    """
    if not checked:  # callers that ran event_input_check on each item say so
        now = timezone.now()
        for item in items:
            event_input_check(item, now=now)
    created = _events_insert(_first_of_each_key(items))
    keys = [item.idempotency_key for item in items]
    missing = [key for key in set(keys) if key not in created]
    existing = dict(
        Event.objects.filter(idempotency_key__in=missing).values_list("idempotency_key", "pk")
    )
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


def event_input_check(item: EventInput, *, now: datetime | None = None) -> None:
    """Raises ContactsError naming the field when an event cannot be stored.

    A batch passes `now` so that the clock is read once for all of its events.
    """
    problem = _event_type_problem(item.type)
    if problem:
        raise ContactsError(problem, field="type")
    if not item.idempotency_key or len(item.idempotency_key) > 200:
        raise ContactsError("Give an idempotency key of 1–200 characters.", field="idempotency_key")
    if timezone.is_naive(item.occurred_at):
        raise ContactsError("occurred_at needs a time zone offset.", field="occurred_at")
    if item.occurred_at > (now or timezone.now()) + FUTURE_TOLERANCE:
        raise ContactsError("occurred_at is in the future.", field="occurred_at")
    if not isinstance(item.properties, dict):
        raise ContactsError("properties must be a JSON object.", field="properties")
    try:
        item.properties_json = json.dumps(item.properties)
    except (TypeError, ValueError) as error:
        raise ContactsError("properties must be plain JSON.", field="properties") from error
    if len(item.properties_json) > MAX_PROPERTIES_BYTES:
        raise ContactsError("properties is larger than 16 KB.", field="properties")


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
            item.properties_json or json.dumps(item.properties),
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
    cursor.execute(
        "WITH batch AS (DELETE FROM contacts_event_intake RETURNING *) "
        f"INSERT INTO contacts_event ({_INSERT_COLUMNS}) SELECT {_INSERT_COLUMNS} FROM batch "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key"
    )
    return cursor.fetchall()


def _insert_values(cursor, rows: list[tuple]) -> list[tuple]:
    cursor.execute(
        f"INSERT INTO contacts_event ({_INSERT_COLUMNS}) VALUES {_placeholders(len(rows))} "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key",
        list(chain.from_iterable(rows)),
    )
    return cursor.fetchall()


@lru_cache(maxsize=16)
def _placeholders(count: int) -> str:
    return ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * count)


def _hand_off(event_ids: list[int]) -> None:
    from apps.contacts.tasks import events_hand_off

    task_send(events_hand_off, event_ids)  # lost: the sweep hands these events off later


def events_handle(*, event_ids: list[int]) -> int:
    """Runs every registered handler on the events not yet handled, then marks them.

    Handlers are idempotent (each keys its own work), so a second run after a crash
    between handling and marking does no harm.
    """
    events = list(
        Event.objects.filter(pk__in=event_ids, handled_at=None)
        .select_related("contact")
        .order_by("occurred_at", "pk")
    )
    if not events:
        return 0
    for handler in _handlers.values():
        handler(events)
    Event.objects.filter(pk__in=[e.pk for e in events], handled_at=None).update(
        handled_at=timezone.now()
    )
    return len(events)


def events_unhandled_sweep(*, older_than: timedelta = timedelta(minutes=2), limit=5000) -> int:
    """Hands off events whose after-commit hand-off never ran."""
    cutoff = timezone.now() - older_than
    ids = list(
        Event.objects.filter(handled_at=None, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), 500):
        _hand_off(ids[start : start + 500])
    return len(ids)
