"""Email first, SMS only if it is still needed: the offer goes by email; two days later an
SMS follows only for a contact who did not click the offer and is still a lead or MQL."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from apps.accounts import roles
from apps.contacts.services import contact_update
from apps.journeys.models import Enrollment, JourneyStatus
from apps.journeys.services import journey_activate
from apps.journeys.tasks import enrollments_advance
from apps.sends.models import OutboundMessage, TrackedLink
from apps.sends.testing.fake_twilio import FakeTwilio
from config.celery import app
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import advance, email_opt_in, email_template, happen
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
NUDGE = "Cue Demo: your 20% offer ends Friday, {{ contact.first_name }}. Reply STOP to opt out."
STILL_EARLY = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}]}


def email_first_journey():
    """Built as a draft and activated by an approver, as in the product."""
    journey = journey_build(
        name="Email first",
        status=JourneyStatus.DRAFT,
        trigger_event_type="form_submit",
        trigger_filters={"form": "offer"},
        exit_event_types=["meeting_booked"],
        steps=[
            ("offer", "send_email", {"template": email_template().pk, "next": "wait"}),
            ("wait", "wait", {"days": 2, "next": "clicked"}),
            (
                "clicked",
                "branch",
                {
                    "condition": {"step_outcome": {"step": "offer", "is": "clicked"}},
                    "then": "done",
                    "else": "still_early",
                },
            ),
            (
                "still_early",
                "branch",
                {"condition": {"rules": STILL_EARLY}, "then": "nudge", "else": "done"},
            ),
            (
                "nudge",
                "send_sms",
                {"template": sms_template(name="Offer nudge", body=NUDGE).pk, "next": "done"},
            ),
            ("done", "exit", {}),
        ],
    )
    return journey_activate(journey=journey, actor=UserFactory(role=roles.APPROVER))


def three_leads(opted_in_contact, **fields):
    names = ("Clicker", "Promoted", "Quiet")
    return [email_opt_in(opted_in_contact(first_name=name, **fields)) for name in names]


def offer_link(contact) -> TrackedLink:
    return TrackedLink.objects.get(message__contact=contact, message__channel="email", key="offer")


def test_only_the_contact_who_neither_clicked_nor_moved_on_gets_the_sms(
    clock, client, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = email_first_journey()
    clicker, promoted, quiet = three_leads(opted_in_contact)
    with django_capture_on_commit_callbacks(execute=True):
        for contact in (clicker, promoted, quiet):
            happen(contact, "form_submit", f"offer-{contact.pk}", form="offer")
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        c.email for c in (clicker, promoted, quiet)
    )

    clock.shift(timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/l/{offer_link(clicker).token}", headers={"user-agent": BROWSER})
    assert (response.status_code, response["Location"]) == (302, "https://www.example.com/offer")
    clock.shift(timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=promoted, fields={"lifecycle_stage": "sql"})

    clock.move_to(MIDDAY + timedelta(days=2) - timedelta(minutes=1))
    assert advance(django_capture_on_commit_callbacks) == 0  # two days are not up yet
    clock.move_to(MIDDAY + timedelta(days=2))
    assert advance(django_capture_on_commit_callbacks) == 3

    [sms] = OutboundMessage.objects.filter(journey_id=journey.pk, channel="sms")
    assert (sms.contact, sms.status) == (quiet, "delivered")
    assert sms.body == "Cue Demo: your 20% offer ends Friday, Quiet. Reply STOP to opt out."
    assert OutboundMessage.objects.filter(journey_id=journey.pk, channel="email").count() == 3
    decisions = {
        contact.first_name: list(
            Enrollment.objects.get(journey=journey, contact=contact)
            .activity.filter(kind="decision")
            .values_list("reason", flat=True)
        )
        for contact in (clicker, promoted, quiet)
    }
    assert decisions == {
        "Clicker": ["The message of step offer was clicked."],
        "Promoted": [
            "The message of step offer was not clicked.",
            "Contact does not match the branch rules.",
        ],
        "Quiet": [
            "The message of step offer was not clicked.",
            "Contact matches the branch rules.",
        ],
    }
    states = Enrollment.objects.filter(journey=journey).values_list("state", "current_step__key")
    assert set(states) == {("completed", "done")}


# --- the same journey on a real worker ---------------------------------------------------

ACCOUNT_SID, AUTH_TOKEN = "AC" + "5" * 32, "worker-auth-token"


def zone_at_midday(now: datetime) -> str:
    """A fixed-offset zone where it is about 13:00 now: the worker runs on the real clock,
    so quiet hours must allow the SMS whatever the time of the test run."""
    offset = (13 - now.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_advances_the_journey_and_sends_the_sms_to_twilio(opted_in_contact):
    now = datetime.now(UTC)
    zone = zone_at_midday(now)
    assert 10 <= now.astimezone(ZoneInfo(zone)).hour <= 16
    # Two days ago (in this process only): the offer emails, a click and a promotion.
    with time_machine.travel(now - timedelta(days=2, minutes=5), tick=False) as traveller:
        journey = email_first_journey()
        clicker, promoted, quiet = three_leads(opted_in_contact, time_zone=zone)
        for contact in (clicker, promoted, quiet):
            happen(contact, "form_submit", f"offer-{contact.pk}", form="offer")
        assert len(mail.outbox) == 3
        traveller.shift(timedelta(hours=1))
        Client().get(f"/l/{offer_link(clicker).token}", headers={"user-agent": BROWSER})
        contact_update(contact=promoted, fields={"lifecycle_stage": "sql"})
    assert Enrollment.objects.filter(journey=journey, next_run_at__lte=now).count() == 3

    app.conf.task_always_eager = False
    try:
        with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake, celery_worker(env=twilio_env(fake)) as q:
            enrollments_advance.apply_async(queue=q)
            sms = wait_for(lambda: sent_sms(journey), timeout=90)
            sent = fake.messages_sent()
    finally:
        app.conf.task_always_eager = True
    assert sms, "the worker never sent the SMS (see var/test-*.log)"
    [params] = sent
    assert (params["To"], params["Body"]) == (
        str(quiet.phone),
        "Cue Demo: your 20% offer ends Friday, Quiet. Reply STOP to opt out.",
    )
    assert (sms.contact, sms.provider_sid) == (quiet, fake.message_sids()[0])
    assert OutboundMessage.objects.filter(journey_id=journey.pk, channel="sms").count() == 1
    states = Enrollment.objects.filter(journey=journey).values_list("state", "current_step__key")
    assert set(states) == {("completed", "done")}


def sent_sms(journey) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(
        journey_id=journey.pk, channel="sms", status="sent"
    ).first()


def twilio_env(fake: FakeTwilio) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "6" * 32,
        "TWILIO_FROM_NUMBER": "",
        "TWILIO_API_BASE_URL": fake.base_url,
        "PUBLIC_BASE_URL": "https://cue.example.com",
    }
