"""A text step may name its sender or sender pool: the builder offers the senders approved
for marketing and the pools, activation refuses a sender that may not send marketing, and
the engine's batch chooses the sender once for the batch. A named sender wins over the
sender a contact last heard from; a pool (or no choice) keeps that sticky sender."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.journeys.engine.advance import enrollment_advance_now, enrollments_advance_due
from apps.journeys.graph import journey_problems
from apps.journeys.models import Enrollment, EnrollmentState
from apps.journeys.steps import SPECS
from apps.journeys.steps.send import SendConfig, sender_picker_choices
from apps.sends.models import OutboundMessage, Sender, SenderPool
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db

SERVICE = "MG" + "b" * 32


@pytest.fixture
def senders(db):
    """The default Messaging Service, an approved local number, a pending one, and a pool
    of the two local numbers."""
    service = Sender.objects.create(
        name="Service", kind="messaging_service", address=SERVICE,
        registration="campaign_approved", mps=Decimal("25"), is_default=True,
    )  # fmt: skip
    local = Sender.objects.create(
        name="Local", kind="long_code", address="+13125550100",
        registration="campaign_approved", mps=Decimal("8"),
    )  # fmt: skip
    pending = Sender.objects.create(
        name="Pending", kind="long_code", address="+13125550101",
        registration="pending", mps=Decimal("8"),
    )  # fmt: skip
    pool = SenderPool.objects.create(name="Locals")
    pool.senders.set([local])
    return service, local, pending, pool


def heard_from(contact, sender: Sender) -> None:
    """The contact's number last heard from `sender` (a text sent an hour ago)."""
    OutboundMessage.objects.create(
        contact=contact, to_address=str(contact.phone), body="Earlier", category="marketing",
        origin="journey", send_key=f"earlier-{contact.pk}", status="sent",
        sent_at=timezone.now() - timezone.timedelta(hours=1), sender=sender.address,
    )  # fmt: skip


def enroll(journey, contacts):
    now = timezone.now()
    Enrollment.objects.bulk_create(
        Enrollment(
            journey=journey, contact=contact, current_step=journey.first_step,
            state=EnrollmentState.ACTIVE, next_run_at=now, step_entered_at=now,
            entered_at=now, visits={journey.first_step.key: 1},
        )
        for contact in contacts
    )  # fmt: skip


def sent_from(contacts) -> list[str]:
    by_contact = dict(
        OutboundMessage.objects.filter(step_id__isnull=False).values_list(
            "contact_id", "from_sender__name"
        )
    )
    return [by_contact.get(contact.pk) for contact in contacts]


# The builder


def test_the_picker_offers_approved_senders_and_the_pools(senders):
    service, local, _pending, pool = senders
    assert sender_picker_choices() == [
        ("", "The default (the contact's last sender, else the default sender)"),
        (f"sender:{local.pk}", f"Sender: {local}"),
        (f"sender:{service.pk}", f"Sender: {service}"),
        (f"pool:{pool.pk}", "Pool: Locals"),
    ]


@pytest.mark.parametrize("picked", ["sender", "pool", ""])
def test_the_form_stores_the_choice_and_shows_it_again(senders, picked):
    _service, local, _pending, pool = senders
    spec = SPECS["send_sms"]
    value = {"sender": f"sender:{local.pk}", "pool": f"pool:{pool.pk}", "": ""}[picked]
    config = spec.config_from_form({"sms_template": 7, "sms_sender": value})
    stored = {"template": 7, "on_suppressed": "continue", "on_deferred": "wait"}
    stored |= {"sender": local.pk} if picked == "sender" else {}
    stored |= {"sender_pool": pool.pk} if picked == "pool" else {}
    assert config.stored() == stored
    initial = spec.form_initial(SendConfig.read(stored), own=True)
    assert initial.get("sms_sender", "") == value


def test_an_email_step_keeps_no_sender(senders):
    _service, local, *_ = senders
    config = SPECS["send_email"].config_from_form(
        {"email_template": 7, "sms_sender": f"sender:{local.pk}"}
    )
    assert config.stored() == {"template": 7, "on_suppressed": "continue", "on_deferred": "wait"}


def test_the_summary_names_the_sender_in_words(senders):
    _service, local, _pending, pool = senders
    spec = SPECS["send_sms"]
    names = {7: "Reminder"}
    assert spec.summary(SendConfig(template=7, sender=local.pk), names) == "Reminder, from Local"
    assert (
        spec.summary(SendConfig(template=7, sender_pool=pool.pk), names)
        == "Reminder, from the pool Locals"
    )
    assert spec.summary(SendConfig(template=7), names) == "Reminder"


# Activation


@pytest.mark.parametrize(
    ("choice", "problem"),
    [
        ("local", None),
        ("pool", None),
        (
            "pending",
            "Step remind: Pending may not send marketing: its registration is Pending, and a "
            "Phone number (10DLC) needs 10DLC campaign approved.",
        ),
        ("missing", "Step remind: sender 999999 does not exist or is retired: choose another."),
        ("text", "Step remind: choose the sender or the sender pool from the list."),
        ("both", "Step remind: name a sender or a sender pool, not both."),
        ("pending_pool", "Step remind: Pending may not send marketing: its registration is "
         "Pending, and a Phone number (10DLC) needs 10DLC campaign approved."),
        ("empty_pool", "Step remind: the pool Empty has no active sender."),
    ],
)  # fmt: skip
def test_activation_checks_the_named_sender(senders, choice, problem):
    _service, local, pending, pool = senders
    mixed = SenderPool.objects.create(name="Mixed")
    mixed.senders.set([local, pending])
    empty = SenderPool.objects.create(name="Empty")
    config = {
        "local": {"sender": local.pk},
        "pool": {"sender_pool": pool.pk},
        "pending": {"sender": pending.pk},
        "missing": {"sender": 999999},
        "text": {"sender": "Local"},
        "both": {"sender": local.pk, "sender_pool": pool.pk},
        "pending_pool": {"sender_pool": mixed.pk},
        "empty_pool": {"sender_pool": empty.pk},
    }[choice]
    template = sms_template()
    journey = journey_build(steps=[("remind", "send_sms", {"template": template.pk, **config})])
    assert journey_problems(journey, list(journey.steps.all())) == ([problem] if problem else [])


# Sending


def test_a_named_sender_wins_over_the_contacts_last_sender_in_a_batch(
    clock, senders, opted_in_contact, django_capture_on_commit_callbacks
):
    service, local, _pending, _pool = senders
    sticky, fresh = opted_in_contact(), opted_in_contact()
    heard_from(sticky, service)
    journey = journey_build(
        steps=[("remind", "send_sms", {"template": sms_template().pk, "sender": local.pk})]
    )
    enroll(journey, [sticky, fresh])
    with django_capture_on_commit_callbacks():
        assert enrollments_advance_due() == 2
    assert sent_from([sticky, fresh]) == ["Local", "Local"]


def test_a_pool_keeps_the_contacts_last_sender_and_gives_a_new_number_one_of_its_own(
    clock, senders, opted_in_contact, django_capture_on_commit_callbacks
):
    service, _local, _pending, pool = senders
    sticky, fresh = opted_in_contact(), opted_in_contact()
    heard_from(sticky, service)
    journey = journey_build(
        steps=[("remind", "send_sms", {"template": sms_template().pk, "sender_pool": pool.pk})]
    )
    enroll(journey, [sticky, fresh])
    with django_capture_on_commit_callbacks():
        assert enrollments_advance_due() == 2
    assert sent_from([sticky, fresh]) == ["Service", "Local"]


def test_no_choice_keeps_todays_rule(
    clock, senders, opted_in_contact, django_capture_on_commit_callbacks
):
    _service, local, _pending, _pool = senders
    sticky, fresh = opted_in_contact(), opted_in_contact()
    heard_from(sticky, local)
    journey = journey_build(steps=[("remind", "send_sms", {"template": sms_template().pk})])
    enroll(journey, [sticky, fresh])
    with django_capture_on_commit_callbacks():
        assert enrollments_advance_due() == 2
    assert sent_from([sticky, fresh]) == ["Local", "Service"]


def test_the_batch_looks_the_named_sender_up_once_whatever_its_size(
    clock, senders, opted_in_contact, django_capture_on_commit_callbacks
):
    _service, local, _pending, _pool = senders
    contacts = [opted_in_contact() for _ in range(6)]
    journey = journey_build(
        steps=[("remind", "send_sms", {"template": sms_template().pk, "sender": local.pk})]
    )
    enroll(journey, contacts)
    looked_up = []

    def count(execute, sql, params, many, context):
        if 'FROM "sends_sender"' in sql:
            looked_up.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count), django_capture_on_commit_callbacks():
        assert enrollments_advance_due() == 6
    assert sent_from(contacts) == ["Local"] * 6
    # the step's sender, and the gate's rule reading each message's chosen sender row
    assert len([sql for sql in looked_up if "LIMIT" in sql]) == 1


def test_one_enrollment_run_alone_sends_from_the_named_sender(
    clock, senders, opted_in_contact, django_capture_on_commit_callbacks
):
    service, local, _pending, _pool = senders
    contact = opted_in_contact()
    heard_from(contact, service)
    journey = journey_build(
        steps=[("remind", "send_sms", {"template": sms_template().pk, "sender": local.pk})]
    )
    enroll(journey, [contact])
    with django_capture_on_commit_callbacks():
        enrollment_advance_now(enrollment_id=Enrollment.objects.get().pk)
    assert sent_from([contact]) == ["Local"]
