"""The batch gate decides exactly as the one-message gate does (the same rule code reading
the same facts from per-batch queries), and under racing batch workers the caps hold."""

import random
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection, transaction

from apps.consent.models import Channel, ConsentSource, Preference, Purpose, Suppression
from apps.consent.services import consent_opt_in, consent_revoke_channel, suppression_add
from apps.journeys.models import Enrollment, EnrollmentState
from apps.sends.caps import caps_defaults_ensure
from apps.sends.gate_batch import gates_evaluate
from apps.sends.models import FrequencyCap, MessageStatus, OutboundMessage
from apps.sends.policy import gate_evaluate
from apps.sends.services.messages import messages_create_batch
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build, sms_template

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Chicago
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", ""]
REGIONS = ["", "FL", "TX", "OK", "MD"]
RESERVING = [MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED]
OTHER = [MessageStatus.SUPPRESSED, MessageStatus.FAILED, MessageStatus.CANCELED]


def random_contact(rng: random.Random, journey, version):
    contact = ContactFactory(time_zone=rng.choice(ZONES), region=rng.choice(REGIONS))
    if rng.random() < 0.8:
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
        )
    if rng.random() < 0.1:
        consent_revoke_channel(contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD)
    if rng.random() < 0.1:
        suppression_add(
            address=str(contact.phone), reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
        )
    if rng.random() < 0.2:
        Preference.objects.create(
            contact=contact,
            sms_enabled=rng.random() < 0.7,
            topics=rng.choice([[], ["webinar"], ["billing"]]),
            quiet_start=time(9) if rng.random() < 0.5 else None,
            quiet_end=time(12) if rng.random() < 0.5 else None,
        )
    for n in range(rng.randint(0, 4)):
        sent = MIDDAY - timedelta(hours=rng.choice([1, 5, 20, 30, 100, 200]))
        OutboundMessage.objects.create(
            send_key=f"past:{contact.pk}:{n}",
            contact=contact,
            to_address=str(contact.phone),
            category="marketing",
            origin="journey",
            journey_id=journey.pk if rng.random() < 0.5 else None,
            template_version=version if rng.random() < 0.3 else None,
            status=rng.choice(RESERVING + OTHER),
            sent_at=sent,
            queued_at=sent,
        )
    if rng.random() < 0.05:
        contact.__class__.objects.filter(pk=contact.pk).update(erased_at=MIDDAY)
    return contact


def journey_message(journey, version, contact):
    enrollment = Enrollment.objects.create(
        journey=journey,
        contact=contact,
        current_step=journey.first_step,
        state=EnrollmentState.ACTIVE,
        entered_at=MIDDAY - timedelta(days=1),
    )
    return OutboundMessage(
        send_key=f"journey:{enrollment.pk}:send:1",
        origin="journey",
        category="marketing",
        channel="sms",
        contact=contact,
        to_address=str(contact.phone),
        template_version=version,
        journey_id=journey.pk,
        enrollment_id=enrollment.pk,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_it_decides_every_message_as_the_single_gate_does(seed):
    rng = random.Random(seed)
    caps_defaults_ensure(FrequencyCap)
    FrequencyCap.objects.filter(
        pk__in=rng.sample(list(FrequencyCap.objects.values_list("pk", flat=True)), 2)
    ).update(is_active=False)
    template = sms_template()
    version = template.current_version
    journey = journey_build(
        steps=[("send", "send_sms", {"template": template.pk})],
        cap_messages=rng.choice([0, 2]),
        cap_hours=48,
        send_weekdays=rng.choice([[], [0, 1, 2, 3, 4], [5, 6]]),
    )
    with time_machine.travel(MIDDAY, tick=False):
        contacts = [random_contact(rng, journey, version) for _ in range(40)]
        messages = [journey_message(journey, version, contact) for contact in contacts]
        singles = [gate_evaluate(message=message, at=MIDDAY) for message in messages]
        batch = gates_evaluate(messages=messages, at=MIDDAY)
    assert batch == singles
    assert len({result.reason_code for result in singles}) >= 4  # the data exercised the rules


def test_it_refuses_a_batch_with_two_messages_for_one_contact(db):
    contact = ContactFactory()
    message = OutboundMessage(contact=contact, origin="journey", channel="sms")
    with pytest.raises(ValueError, match="one message per contact"):
        gates_evaluate(messages=[message, message], at=MIDDAY)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_it_holds_the_cap_of_three_with_ten_racing_batch_workers():
    caps_defaults_ensure(FrequencyCap)
    FrequencyCap.objects.update(is_active=False)
    FrequencyCap.objects.create(
        name="Three a day", channel="sms", category="marketing", window_hours=24, max_messages=3
    )
    contacts = [ContactFactory(time_zone="America/Chicago", region="IL") for _ in range(5)]
    for contact in contacts:
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
        )
    templates = [sms_template(name=f"Template {n}") for n in range(10)]
    errors = []

    def worker(n: int):
        try:
            with time_machine.travel(MIDDAY, tick=False), transaction.atomic():
                version = templates[n].current_version
                intents = [
                    {
                        "send_key": f"race:{n}:{contact.pk}",
                        "origin": "journey",
                        "category": "marketing",
                        "channel": "sms",
                        "contact": contact,
                        "template_version": version,
                    }
                    for contact in contacts
                ]
                messages_create_batch(intents=intents, at=MIDDAY)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for contact in contacts:
        # Decided at creation; the allowed ones were then dispatched (their status moved on).
        codes = list(
            OutboundMessage.objects.filter(contact=contact).values_list("reason_code", flat=True)
        )
        assert sorted(codes) == ["allowed"] * 3 + ["frequency_cap"] * 7
