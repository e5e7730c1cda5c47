"""Drill: two celery beat processes started by mistake fire every periodic task twice, into
a worker with several processes. Claims keep the work single: each due enrollment runs its
step once, each due message reaches Twilio once, each stored event enrolls its contact once."""

import re
import time
from collections import Counter
from datetime import timedelta

from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.contacts.models import Event
from apps.core.schedules import PREFIX, periodic_tasks_sync
from apps.journeys.models import Activity, Enrollment, EnrollmentState
from apps.sends.models import MessageStatus, OutboundMessage
from apps.sends.services.messages import message_create
from tests.drills.conftest import WORKER_DRILL, midday_zone, posts, twilio_env, zone_at
from tests.drills.processes import celery_beat
from tests.factories import EventFactory
from tests.journeys.builders import journey_build, sms_template
from tests.workers import celery_worker_process, wait_for

pytestmark = WORKER_DRILL

# The periodic tasks that find due work, fired every second by each beat for the drill.
SWEEPS = ("advance journeys", "sweep messages", "hand off unhandled events")
AFTER_DONE = 5.0  # the beats keep firing this long once all work is done
WITH_TWILIO = (MessageStatus.SENT, MessageStatus.DELIVERED)


def schedule_every_second(names) -> None:
    """The declared schedule, with only these tasks enabled, each due every second."""
    periodic_tasks_sync()
    second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update(enabled=False)
    PeriodicTask.objects.filter(name__in=[PREFIX + name for name in names]).update(
        enabled=True, interval=second
    )


def journey(name: str, trigger: str):
    return journey_build(
        name=name,
        trigger_event_type=trigger,
        steps=[
            ("remind", "send_sms", {"template": sms_template(name=name).pk, "next": "wait"}),
            ("wait", "wait", {"days": 2, "next": "done"}),
            ("done", "exit", {}),
        ],
    )


def due_enrollment(journey, contact) -> Enrollment:
    """Entered earlier; its first step is due now."""
    now = timezone.now()
    return Enrollment.objects.create(
        journey=journey,
        contact=contact,
        current_step=journey.first_step,
        state=EnrollmentState.ACTIVE,
        next_run_at=now - timedelta(seconds=1),
        step_entered_at=now,
        visits={journey.first_step.key: 1},
    )


def deferred_message(contact, key: str) -> OutboundMessage:
    """Deferred by quiet hours at creation (it is night for the contact then)."""
    message = message_create(
        send_key=f"drill:beats:{key}",
        origin="journey",
        category="marketing",
        contact=contact,
        body=f"Acme: {key}, your trial ends Friday. Reply STOP to opt out.",
    )
    assert message.status == MessageStatus.DEFERRED
    return message


def night_passes(contact, message: OutboundMessage, *, lost_enqueue: bool) -> None:
    """Morning came for the contact: the message is due for release or, when it was already
    released but its enqueue was lost, queued without a task."""
    contact.time_zone = midday_zone()
    contact.save(update_fields=["time_zone"])
    past = timezone.now() - timedelta(minutes=3)
    fields = {"next_attempt_at": past}
    if lost_enqueue:
        fields = {"status": MessageStatus.QUEUED, "next_attempt_at": None, "queued_at": past}
    OutboundMessage.objects.filter(pk=message.pk).update(**fields)


def all_done(follow_up_journey, expected_sends: int) -> bool:
    return (
        not Event.objects.filter(handled_at=None).exists()
        and Enrollment.objects.filter(journey=follow_up_journey).count() == 2
        and OutboundMessage.objects.filter(status__in=WITH_TWILIO).count() == expected_sends
    )


def activity_kinds(enrollment: Enrollment) -> Counter:
    return Counter(enrollment.activity.values_list("kind", flat=True))


def test_two_beats_fire_everything_twice_and_each_piece_of_work_is_done_once(
    fake_twilio, sms_contact
):
    # Given due work of every kind the periodic tasks pick up
    reminders = journey("Reminder", "webinar_registered")
    follow_ups = journey("Attended", "webinar_attended")
    enrollments = [due_enrollment(reminders, sms_contact()) for _ in range(6)]
    sleepers = [sms_contact(time_zone=zone_at(2)) for _ in range(4)]
    held = [deferred_message(contact, f"held-{i}") for i, contact in enumerate(sleepers)]
    for i, (contact, message) in enumerate(zip(sleepers, held, strict=True)):
        night_passes(contact, message, lost_enqueue=i % 2 == 1)
    events = [
        EventFactory(contact=sms_contact(), type="webinar_attended", idempotency_key=f"seen-{i}")
        for i in range(2)
    ]
    Event.objects.update(received_at=timezone.now() - timedelta(minutes=3))
    schedule_every_second(SWEEPS)

    # When two beats fire the sweeps every second into a worker with three processes
    env = twilio_env(fake_twilio)
    with celery_worker_process(pool="prefork", concurrency=3, env=env) as worker:
        with celery_beat(queue=worker.queue) as first, celery_beat(queue=worker.queue) as second:
            done = wait_for(lambda: all_done(follow_ups, expected_sends=12), timeout=120)
            time.sleep(AFTER_DONE)  # both keep firing for a while
        wait_for(lambda: not in_flight(), timeout=30)
        fired = [due_tasks_sent(first), due_tasks_sent(second)]
    assert done, "the work was never done (see var/test-*.log)"

    # Then both beats did fire each sweep several times
    for sent in fired:
        assert {name: sent[name] >= 3 for name in SWEEPS} == dict.fromkeys(SWEEPS, True)

    # And Twilio got exactly one message for each of the twelve recipients
    assert len(posts(fake_twilio)) == 12
    assert set(Counter(r.form["To"] for r in posts(fake_twilio)).values()) == {1}
    assert {r.status for r in posts(fake_twilio)} == {201}

    # And each due enrollment ran its send step once: one message, one step, one wait
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert (enrollment.state, enrollment.current_step.key) == ("waiting", "wait")
        assert activity_kinds(enrollment) == {
            Activity.Kind.MESSAGE: 1,
            Activity.Kind.STEP: 1,
            Activity.Kind.WAIT: 1,
        }
        [message] = OutboundMessage.objects.filter(enrollment_id=enrollment.pk)
        assert message.status == MessageStatus.SENT

    # And each stored event enrolled its contact once, and that enrollment ran once
    for event in events:
        [enrollment] = Enrollment.objects.filter(journey=follow_ups, contact=event.contact)
        assert activity_kinds(enrollment) == {
            Activity.Kind.ENTERED: 1,
            Activity.Kind.MESSAGE: 1,
            Activity.Kind.STEP: 1,
            Activity.Kind.WAIT: 1,
        }
    assert not Event.objects.filter(handled_at=None).exists()

    # And each message held overnight went out once, on its first attempt
    for message in held:
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("sent", 1)
    assert OutboundMessage.objects.count() == 12


def in_flight() -> bool:
    return OutboundMessage.objects.filter(
        status__in=(MessageStatus.QUEUED, MessageStatus.SENDING)
    ).exists()


def due_tasks_sent(log) -> Counter:
    """How often a beat sent each of the drill's periodic tasks, from its log."""
    sent = re.findall(r"Scheduler: Sending due task cue: (.+?) \(", log.read_text())
    return Counter(sent)
