"""A batch claimed ahead of its pacing slots holds no worker process while it waits: its
calls go to tasks due at their slots, and each of those makes its calls once, however often
it runs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.sends.models import MessageEvent, MessageStatus, OutboundMessage, SenderPace
from apps.sends.services.dispatch import CALLS_TASK_LIVES, messages_dispatch
from apps.sends.services.messages import message_create
from apps.sends.tasks import messages_call_task, messages_dispatch_task

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."
SERVICE_SID = "MG" + "2" * 32  # the fake_twilio fixture's sender


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def handed_on(monkeypatch):
    """The calls tasks handed to the broker (their args and options), instead of run."""
    tasks = []
    monkeypatch.setattr(
        messages_call_task, "apply_async", lambda args, **options: tasks.append((args, options))
    )
    return tasks


def queued(opted_in_contact, count: int) -> list[OutboundMessage]:
    return [
        message_create(
            send_key=f"calls:{n}",
            origin="journey",
            category="marketing",
            contact=opted_in_contact(),
            body=BODY,
        )
        for n in range(count)
    ]


def claimed_ahead(settings, opted_in_contact, count: int, *, rate: float):
    """`count` messages dispatched while their sender's next free slot is 2 s away, with
    Redis as the broker (the filesystem broker's single process keeps its calls)."""
    settings.CUE_SEND_RATES = {"default": rate}
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"  # no task reaches it here
    SenderPace.objects.create(sender=SERVICE_SID, next_slot_at=MIDDAY + timedelta(seconds=2))
    messages = queued(opted_in_contact, count)
    return messages, messages_dispatch(message_ids=[m.pk for m in messages])


def run_at_slots(args) -> dict[int, str]:
    """Runs a calls task with the clock at its last slot (the worker runs it at its first
    and it waits for each; here none needs a wait)."""
    last = max(datetime.fromisoformat(at) for _, at in args[0])
    with time_machine.travel(last, tick=False):
        return messages_call_task(*args)


def test_a_batch_claimed_ahead_hands_its_calls_on_to_tasks_due_at_their_slots(
    fake_twilio, opted_in_contact, settings, handed_on
):
    # Given six messages for a sender at 4 a second whose next free slot is 2 s away
    # When one batch dispatches them
    messages, outcomes = claimed_ahead(settings, opted_in_contact, 6, rate=4.0)

    # Then the batch claims them and makes no call: two tasks take them on, the slots of
    # less than a second each, due at the first of their slots
    ids = [m.pk for m in messages]
    assert outcomes == dict.fromkeys(ids, "handed_on")
    assert fake_twilio.requests == []
    rows = OutboundMessage.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts", "claimed_at")) == {("sending", 1, MIDDAY)}
    slots = [(MIDDAY + timedelta(seconds=2 + n / 4)).isoformat() for n in range(6)]
    claim = MIDDAY.isoformat()
    assert [args for args, _ in handed_on] == [
        ([[pk, slot] for pk, slot in zip(ids[:4], slots[:4], strict=True)], claim),
        ([[pk, slot] for pk, slot in zip(ids[4:], slots[4:], strict=True)], claim),
    ]
    assert [options["countdown"] for _, options in handed_on] == [2.0, 3.0]
    assert {options["expires"] for _, options in handed_on} == {MIDDAY + CALLS_TASK_LIVES}


def test_each_calls_task_sends_its_messages_once_however_often_it_runs(
    fake_twilio, opted_in_contact, settings, handed_on
):
    # Given a batch whose six calls were handed on to two tasks
    messages, _ = claimed_ahead(settings, opted_in_contact, 6, rate=4.0)
    ids = [m.pk for m in messages]

    # When each task runs at its slots, and then again (the broker delivered it twice)
    first = [run_at_slots(args) for args, _ in handed_on]
    again = [run_at_slots(args) for args, _ in handed_on]

    # Then each message was sent once, on its first attempt, and the second runs called nothing
    assert first == [dict.fromkeys(ids[:4], "sent"), dict.fromkeys(ids[4:], "sent")]
    assert again == [dict.fromkeys(ids[:4], "not_claimed"), dict.fromkeys(ids[4:], "not_claimed")]
    assert sorted(sent["To"] for sent in fake_twilio.messages_sent()) == sorted(
        m.to_address for m in messages
    )
    rows = OutboundMessage.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts")) == {("sent", 1)}
    assert MessageEvent.objects.filter(message_id__in=ids, kind="provider").count() == 6


def test_a_calls_task_finds_nothing_to_call_once_the_message_was_claimed_again(
    fake_twilio, opted_in_contact, settings, handed_on
):
    # Given a handed-on call whose message the sweep gave back to the queue and another
    # dispatch claimed and sent meanwhile (a later claim)
    [message], _ = claimed_ahead(settings, opted_in_contact, 1, rate=4.0)
    [(args, _)] = handed_on
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=MIDDAY + timedelta(seconds=1)
    )

    # When the old task runs
    # Then it calls nothing: its claim is no longer the message's
    assert run_at_slots(args) == {message.pk: "not_claimed"}
    assert fake_twilio.requests == []


def test_a_calls_task_run_after_its_life_calls_nothing_and_leaves_the_message_to_the_sweep(
    fake_twilio, opted_in_contact, settings, handed_on
):
    # Given a handed-on call whose task a restarted worker runs long after the claim
    [message], _ = claimed_ahead(settings, opted_in_contact, 1, rate=4.0)
    [(args, _)] = handed_on
    late = MIDDAY + CALLS_TASK_LIVES + timedelta(seconds=1)

    # When it runs
    with time_machine.travel(late, tick=False):
        outcome = messages_call_task(*args)

    # Then it calls nothing and the message stays sending under its claim, for the sweep
    # to reconcile with Twilio
    assert outcome == {message.pk: "not_claimed"}
    assert fake_twilio.requests == []
    message.refresh_from_db()
    assert (message.status, message.claimed_at, message.attempts) == ("sending", MIDDAY, 1)


def test_a_batch_claimed_ahead_on_the_filesystem_broker_makes_its_calls_itself(
    fake_twilio, opted_in_contact, settings, handed_on
):
    # Given the default filesystem broker (read once a second, one worker process), whatever
    # broker this test run has
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CUE_SEND_RATES = {"default": 4.0}
    SenderPace.objects.create(sender=SERVICE_SID, next_slot_at=MIDDAY + timedelta(seconds=0.8))
    [message] = queued(opted_in_contact, 1)

    # When a batch claimed ahead of its slot dispatches it (the clock runs to the slot)
    with time_machine.travel(MIDDAY, tick=True):
        outcomes = messages_dispatch(message_ids=[message.pk])

    # Then the batch waits for the slot and makes the call itself, handing nothing on
    assert (outcomes, handed_on) == ({message.pk: "sent"}, [])
    assert len(fake_twilio.messages_sent()) == 1


def test_calls_the_broker_refuses_go_back_to_the_queue_with_no_attempt_used(
    fake_twilio, opted_in_contact, settings, monkeypatch
):
    # Given a broker that refuses the calls tasks but takes the dispatch task after
    def down(*args, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(messages_call_task, "apply_async", down)
    enqueued = []
    monkeypatch.setattr(
        messages_dispatch_task, "apply_async", lambda args, **options: enqueued.append(args[0])
    )

    # When a batch claimed ahead hands its two calls on
    messages, outcomes = claimed_ahead(settings, opted_in_contact, 2, rate=4.0)

    # Then no call is made, and both are queued again, due at their first slot, unattempted
    ids = [m.pk for m in messages]
    assert outcomes == dict.fromkeys(ids, "repaced")
    assert fake_twilio.requests == []
    rows = OutboundMessage.objects.filter(pk__in=ids).order_by("pk")
    assert (
        list(rows.values_list("status", "attempts", "next_attempt_at"))
        == [
            ("queued", 0, MIDDAY + timedelta(seconds=2)),
        ]
        * 2
    )
    assert enqueued == [ids]
