"""Drill: Twilio answers 500s, 429s and too slowly for a while. Each message is accepted by
exactly one provider call or ends failed; transient errors are retried with backoff, a
permanent one never is, a timeout after sending is reconciled, and nothing is left stuck."""

from collections import Counter

from django.db import transaction

from apps.consent.models import Suppression
from apps.sends.models import MessageEvent, MessageStatus, OutboundMessage
from apps.sends.services.messages import message_create
from apps.sends.services.outcomes import MAX_ATTEMPTS
from apps.sends.tasks import messages_sweep_task
from tests.drills.conftest import WORKER_DRILL, posts, tasks_to, twilio_env
from tests.workers import celery_worker_process, wait_for

pytestmark = WORKER_DRILL

# What Twilio does to the first create for each recipient (then it accepts).
FAULTS = {
    "fine": [],
    "also fine": [],
    "server error": [500],
    "another server error": [500],
    "rate limited": [429],
    "rate limited again": [429],
    "answer too late": ["slow"],
    "not a mobile": [400],  # 21614, every time: permanent
    "last attempt": [500],  # already tried MAX_ATTEMPTS - 1 times before this drill
}
TIMEOUT, SLOW = 1.5, 5.0
SWEEP_EVERY = 3.0


def script(fake, faults: dict[str, list], phones: dict[str, str]) -> None:
    for name, answers in faults.items():
        to = phones[name]
        for answer in answers:
            if answer == "slow":
                fake.delay_next(SLOW, to=to)
            elif answer == 400:
                fake.error_for_number(to, status=400, code=21614)
            else:
                fake.fail_next(status=answer, to=to)


def all_settled(ids: list[int]) -> bool:
    """Every message sent or failed, as the beat would see it: its sweep runs meanwhile."""
    messages_sweep_task.delay()
    finished = (MessageStatus.SENT, MessageStatus.FAILED)
    return OutboundMessage.objects.filter(pk__in=ids, status__in=finished).count() == len(ids)


def test_twilio_failing_for_a_while_ends_with_one_accepted_call_per_message(
    fake_twilio, sms_contact
):
    # Given nine messages and a Twilio that fails the first try for most of them
    contacts = {name: sms_contact(first_name=name.title()) for name in FAULTS}
    phones = {name: str(contact.phone) for name, contact in contacts.items()}
    script(fake_twilio, FAULTS, phones)
    env = twilio_env(fake_twilio, TWILIO_TIMEOUT_SECONDS=str(TIMEOUT))
    with (
        celery_worker_process(pool="prefork", concurrency=3, env=env) as worker,
        tasks_to(worker.queue),
    ):
        with transaction.atomic():  # enqueued together when this commits
            messages = {
                name: message_create(
                    send_key=f"drill:twilio:{name}",
                    origin="journey",
                    category="marketing",
                    contact=contact,
                    body=f"Acme: {name}, your trial ends Friday. Reply STOP to opt out.",
                )
                for name, contact in contacts.items()
            }
            OutboundMessage.objects.filter(pk=messages["last attempt"].pk).update(
                attempts=MAX_ATTEMPTS - 1
            )
        ids = [message.pk for message in messages.values()]
        # When the worker and the sweep work through them (the first retry comes 30 s on)
        done = wait_for(lambda: all_settled(ids), timeout=150, interval=SWEEP_EVERY)
    assert done, "a message never settled (see var/test-*.log)"

    # Then Twilio answered each recipient as scripted and accepted each message once at most
    answers = {
        name: [r.status for r in posts(fake_twilio) if r.form["To"] == phones[name]]
        for name in FAULTS
    }
    assert answers == {
        "fine": [201],
        "also fine": [201],
        "server error": [500, 201],
        "another server error": [500, 201],
        "rate limited": [429, 201],
        "rate limited again": [429, 201],
        "answer too late": [201],
        "not a mobile": [400],
        "last attempt": [500],
    }
    accepted = Counter(r.form["To"] for r in posts(fake_twilio) if r.status == 201)
    assert set(accepted.values()) == {1}

    # And each message ended as it should, under the sid Twilio gave it
    sid_for = {params["To"]: sid for sid, params in zip_sent(fake_twilio)}
    outcomes = {}
    for name, message in messages.items():
        message.refresh_from_db()
        outcomes[name] = (message.status, message.attempts, message.provider_sid)
    assert outcomes == {
        "fine": ("sent", 1, sid_for[phones["fine"]]),
        "also fine": ("sent", 1, sid_for[phones["also fine"]]),
        "server error": ("sent", 2, sid_for[phones["server error"]]),
        "another server error": ("sent", 2, sid_for[phones["another server error"]]),
        "rate limited": ("sent", 2, sid_for[phones["rate limited"]]),
        "rate limited again": ("sent", 2, sid_for[phones["rate limited again"]]),
        "answer too late": ("sent", 1, sid_for[phones["answer too late"]]),
        "not a mobile": ("failed", 1, None),
        "last attempt": ("failed", MAX_ATTEMPTS, None),
    }
    retried = OutboundMessage.objects.filter(pk__in=ids, log__detail__reason="retry").distinct()
    assert sorted(retried.values_list("contact__first_name", flat=True)) == [
        "Another Server Error",
        "Rate Limited",
        "Rate Limited Again",
        "Server Error",
    ]
    late = messages["answer too late"]
    assert list(
        late.log.filter(kind=MessageEvent.Kind.ERROR).values_list("detail__maybe_sent", flat=True)
    ) == [True]
    assert Suppression.objects.filter(address=phones["not a mobile"]).count() == 1


def zip_sent(fake) -> list[tuple[str, dict]]:
    return list(zip(fake.message_sids(), fake.messages_sent(), strict=True))
