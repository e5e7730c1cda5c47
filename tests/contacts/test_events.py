"""Event intake: stored once per key, handed to registered handlers after commit."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from apps.contacts import events as events_module
from apps.contacts.errors import ContactsError
from apps.contacts.events import (
    ContactId,
    EventInput,
    event_handler_register,
    event_handlers,
    events_handle,
    events_unhandled_sweep,
    record_event,
    record_events,
)
from apps.contacts.models import Contact, Event, EventHandlerFailure
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def handled():
    """A test handler on the hand-off point; yields the event ids it received, in order."""
    received: list[int] = []
    event_handler_register(
        "test.recorder", lambda events: received.extend(e.pk for e in events), order=100
    )
    yield received
    events_module._handlers.pop("test.recorder")


def an_event(contact, key="k1", **overrides):
    return {
        "contact": contact,
        "type": "pricing_view",
        "occurred_at": timezone.now() - timedelta(minutes=1),
        "idempotency_key": key,
        "properties": {"page": "/pricing"},
        "source": "web",
        **overrides,
    }


def test_it_stores_an_event_and_hands_it_off_after_commit(
    handled, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        recorded = record_event(**an_event(contact))
        assert handled == []  # nothing is handed off before the commit
    assert recorded.created is True
    assert len(callbacks) == 1
    assert handled == [recorded.event.pk]
    recorded.event.refresh_from_db()
    assert recorded.event.handled_at is not None and recorded.event.properties == {
        "page": "/pricing"
    }


def test_it_returns_the_original_for_a_repeated_key_and_stores_nothing(
    handled, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = record_event(**an_event(contact))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = record_event(**an_event(contact, type="demo_request"))
    assert (again.created, again.event.pk, again.event.type) == (
        False,
        first.event.pk,
        "pricing_view",
    )
    assert Event.objects.count() == 1
    assert callbacks == []
    assert handled == [first.event.pk]


def test_it_counts_only_the_first_of_a_key_repeated_within_one_batch():
    contact = ContactFactory()
    results = record_events(
        [EventInput(**an_event(contact, key="same")), EventInput(**an_event(contact, key="same"))]
    )
    assert [r.created for r in results] == [True, False]
    assert results[0].event.pk == results[1].event.pk
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"type": "Pricing View"}, "type"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"occurred_at": timezone.now().replace(tzinfo=None)}, "occurred_at"),
        ({"occurred_at": timezone.now() + timedelta(hours=1)}, "occurred_at"),
        ({"properties": ["not", "an", "object"]}, "properties"),
    ],
)
def test_it_refuses_a_bad_event_naming_the_field(override, field):
    contact = ContactFactory()
    with pytest.raises(ContactsError) as error:
        record_event(**an_event(contact, **override))
    assert error.value.field == field
    assert Event.objects.count() == 0


def test_it_accepts_custom_event_types():
    recorded = record_event(**an_event(ContactFactory(), type="trial_started"))
    assert recorded.event.type == "trial_started"


def test_it_sweeps_events_whose_hand_off_never_ran(handled, monkeypatch):
    contact = ContactFactory()
    stale = record_event(**an_event(contact, key="stale")).event
    fresh = record_event(**an_event(contact, key="fresh")).event
    Event.objects.filter(pk=stale.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    assert events_unhandled_sweep() == 1
    assert handled == [stale.pk]
    assert Event.objects.get(pk=fresh.pk).handled_at is None


def test_it_keeps_the_event_when_the_broker_is_down(
    monkeypatch, django_capture_on_commit_callbacks
):
    from apps.contacts import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.events_hand_off, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        recorded = record_event(**an_event(ContactFactory()))
    event = Event.objects.get(pk=recorded.event.pk)
    assert event.handled_at is None  # left for the sweep, not lost


def test_it_never_runs_handlers_twice_for_a_handled_event(handled):
    from apps.contacts.events import events_handle

    event = record_event(**an_event(ContactFactory())).event
    assert events_handle(event_ids=[event.pk]) == 1
    assert events_handle(event_ids=[event.pk]) == 0
    assert handled == [event.pk]


def a_batch(contact, prefix: str, size: int) -> list[EventInput]:
    """Events a minute apart, in a time zone other than the database's."""
    start = timezone.now().astimezone(ZoneInfo("America/New_York")) - timedelta(days=1)
    return [
        EventInput(
            **an_event(
                contact,
                key=f"{prefix}{i}",
                occurred_at=start + timedelta(minutes=i),
                properties={"i": i, "note": 'a\tb\\c\n"d" é'},
            )
        )
        for i in range(size)
    ]


def test_it_stores_a_large_batch_once_per_key_and_answers_repeats_with_the_original():
    # Given a key stored earlier, and a batch large enough for PostgreSQL's COPY path
    contact = ContactFactory()
    earlier = record_event(**an_event(contact, key="b5", type="demo_request"))
    batch = a_batch(contact, "b", 150)
    repeat = EventInput(**an_event(contact, key="b7", type="demo_request"))
    assert len(batch) > events_module._COPY_FROM_ROWS

    results = record_events([*batch, repeat])

    ids = dict(Event.objects.values_list("idempotency_key", "pk"))
    assert [(r.event_id, r.created) for r in results] == [
        (ids[f"b{i}"], i != 5) for i in range(150)
    ] + [(ids["b7"], False)]
    assert ids["b5"] == earlier.event_id
    assert sorted(
        Event.objects.values_list(
            "idempotency_key", "contact_id", "type", "occurred_at", "properties"
        )
    ) == sorted(
        [("b5", contact.pk, "demo_request", earlier.event.occurred_at, {"page": "/pricing"})]
        + [
            (item.idempotency_key, contact.pk, "pricing_view", item.occurred_at, item.properties)
            for i, item in enumerate(batch)
            if i != 5
        ]
    )


def test_it_stores_just_the_batch_given_when_batches_share_a_transaction():
    contact = ContactFactory()

    with transaction.atomic():
        first = record_events(a_batch(contact, "x", 120))
        Event.objects.all().delete()
        second = record_events(a_batch(contact, "y", 120))

    assert [r.created for r in first + second] == [True] * 240
    assert sorted(Event.objects.values_list("pk", "idempotency_key")) == sorted(
        (r.event_id, f"y{i}") for i, r in enumerate(second)
    )


def test_it_takes_a_contact_named_by_its_id_alone():
    contact = ContactFactory()

    (recorded,) = record_events([EventInput(**an_event(ContactId(contact.pk)))])

    assert (recorded.created, recorded.event.contact_id) == (True, contact.pk)


# --- Each handler's progress, per event ----------------------------------------------------


@pytest.fixture
def two_handlers():
    """'test.first' (order 1) fails on the events in `fail_on` while they are there;
    'test.second' (order 2) records. Each yields (handler name, event id) as it runs."""
    calls: list[tuple[str, int]] = []
    fail_on: set[int] = set()

    def first(events):
        calls.extend(("first", e.pk) for e in events)
        if fail_on & {e.pk for e in events}:
            raise RuntimeError("CRM unreachable")
        Event.objects.filter(pk__in=[e.pk for e in events]).update(source="first-ran")

    def second(events):
        calls.extend(("second", e.pk) for e in events)

    event_handler_register("test.second", second, order=2)
    event_handler_register("test.first", first, order=1)
    yield calls, fail_on
    events_module._handlers.pop("test.first")
    events_module._handlers.pop("test.second")


def _handled(*events) -> list:
    return list(
        Event.objects.filter(pk__in=[e.pk for e in events])
        .order_by("pk")
        .values_list("pk", "handled_at")
    )


def _failures() -> list[tuple]:
    return list(
        EventHandlerFailure.objects.order_by("event_id").values_list(
            "event_id", "handler", "attempts", "last_error"
        )
    )


def test_it_runs_the_handlers_in_their_stated_order(two_handlers):
    calls, _ = two_handlers
    event = record_event(**an_event(ContactFactory())).event

    events_handle(event_ids=[event.pk])

    assert [call for call in calls if call[1] == event.pk] == [
        ("first", event.pk),
        ("second", event.pk),
    ]
    assert list(event_handlers()) == [
        "test.first",
        "test.second",
        "sends.double_opt_in",
        "routing.signals",
        "journeys",
    ]


def test_a_failing_handler_holds_back_neither_the_others_nor_the_other_events(two_handlers):
    # given two events, the first handler failing on one of them
    calls, fail_on = two_handlers
    contact = ContactFactory()
    bad = record_event(**an_event(contact, key="bad")).event
    good = record_event(**an_event(contact, key="good")).event
    fail_on.add(bad.pk)
    # when they are handed off together
    assert events_handle(event_ids=[bad.pk, good.pk]) == 2
    # then the second handler got both; the first's work on the good one stands, on the bad
    # one it is rolled back and its failure recorded; only the good event is handled
    assert [c for c in calls if c[0] == "second"] == [("second", bad.pk), ("second", good.pk)]
    assert dict(Event.objects.values_list("pk", "source")) == {bad.pk: "web", good.pk: "first-ran"}
    assert _failures() == [(bad.pk, "test.first", 1, "RuntimeError: CRM unreachable")]
    handled = dict(_handled(bad, good))
    assert (handled[bad.pk], handled[good.pk] is not None) == (None, True)


def test_the_sweep_retries_only_the_failed_handler_until_it_is_done(
    two_handlers, django_capture_on_commit_callbacks
):
    # given an event the first handler failed on once (the second handled it)
    calls, fail_on = two_handlers
    event = record_event(**an_event(ContactFactory())).event
    fail_on.add(event.pk)
    events_handle(event_ids=[event.pk])
    fail_on.clear()  # the CRM is back
    calls.clear()
    Event.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert events_unhandled_sweep() == 0  # too soon after the failure
    EventHandlerFailure.objects.update(failed_at=timezone.now() - timedelta(minutes=6))
    # when the sweep runs after the retry delay (its hand-off runs the task at once)
    with django_capture_on_commit_callbacks(execute=True):
        assert events_unhandled_sweep() == 1
    # then only the first handler ran again, and the event is done with no failure left
    assert calls == [("first", event.pk)]
    assert _failures() == []
    assert _handled(event)[0][1] is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert events_unhandled_sweep() == 0


def test_it_gives_a_handler_up_after_its_last_attempt(two_handlers):
    calls, fail_on = two_handlers
    event = record_event(**an_event(ContactFactory())).event
    fail_on.add(event.pk)

    for _attempt in range(EventHandlerFailure.MAX_ATTEMPTS):
        events_handle(event_ids=[event.pk])

    assert _failures() == [
        (event.pk, "test.first", EventHandlerFailure.MAX_ATTEMPTS, "RuntimeError: CRM unreachable")
    ]
    assert _handled(event)[0][1] is not None  # no longer swept
    assert calls.count(("second", event.pk)) == 1
    assert calls.count(("first", event.pk)) == EventHandlerFailure.MAX_ATTEMPTS


def test_intent_is_scored_before_any_handler_runs(two_handlers):
    from apps.contacts.models import EventWeight

    EventWeight.objects.update_or_create(type="pricing_view", defaults={"weight": 7})
    contact = ContactFactory()
    seen = []
    event_handler_register(
        "test.reader",
        lambda events: seen.extend(
            Contact.objects.filter(pk=contact.pk).values_list("intent_score", flat=True)
        ),
        order=0,
    )
    try:
        event = record_event(**an_event(contact)).event
        events_handle(event_ids=[event.pk])
    finally:
        events_module._handlers.pop("test.reader")

    assert seen == [pytest.approx(7, abs=0.01)]
    assert "contacts.intent" not in event_handlers()
