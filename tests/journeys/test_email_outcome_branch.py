"""Email → wait 2 days → SMS only if the email was neither clicked nor bounced. The emails go
through anymail's Postmark backend to the fake Postmark on 127.0.0.1; the bounce comes back
through anymail's own webhook view, verified by basic auth."""

import base64
import json
from datetime import timedelta

import pytest

from apps.accounts import roles
from apps.journeys.models import Enrollment, JourneyStatus
from apps.journeys.services import journey_activate
from apps.journeys.steps.branch import OPENED_CAVEAT, BranchConfig, BranchSpec
from apps.sends.models import OutboundMessage, TrackedLink
from apps.sends.testing.fake_postmark import FakePostmark
from tests.factories import UserFactory
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import advance, email_opt_in, email_template, happen

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
NUDGE = "Cue Demo: your 20% offer ends Friday, {{ contact.first_name }}. Reply STOP to opt out."
HOOK_USER, HOOK_PASSWORD = "cue-hooks", "s3cret-for-tests"
TRACKING_PATH = "/webhooks/email/postmark/tracking/"


@pytest.fixture
def fake_postmark(settings):
    with FakePostmark() as fake:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": fake.api_url,
            "WEBHOOK_SECRET": f"{HOOK_USER}:{HOOK_PASSWORD}",
        }
        yield fake


def email_then_sms_journey():
    journey = journey_build(
        name="Email, then SMS if not acted on",
        status=JourneyStatus.DRAFT,
        trigger_event_type="form_submit",
        trigger_filters={"form": "offer"},
        steps=[
            ("offer", "send_email", {"template": email_template().pk, "next": "wait"}),
            ("wait", "wait", {"days": 2, "next": "clicked"}),
            ("clicked", "branch", outcome_branch("clicked", then="done", otherwise="bounced")),
            ("bounced", "branch", outcome_branch("bounced", then="done", otherwise="nudge")),
            (
                "nudge",
                "send_sms",
                {"template": sms_template(name="Offer nudge", body=NUDGE).pk, "next": "done"},
            ),
            ("done", "exit", {}),
        ],
    )
    return journey_activate(journey=journey, actor=UserFactory(role=roles.APPROVER))


def outcome_branch(outcome: str, *, then: str, otherwise: str) -> dict:
    condition = {"step_outcome": {"step": "offer", "is": outcome}}
    return {"condition": condition, "then": then, "else": otherwise}


def webhook(client, fake: FakePostmark, record_type: str, message_id: str, **fields):
    credentials = base64.b64encode(f"{HOOK_USER}:{HOOK_PASSWORD}".encode()).decode()
    return client.post(
        TRACKING_PATH,
        data=json.dumps(fake.event_payload(record_type, message_id, **fields)),
        content_type="application/json",
        headers={"authorization": f"Basic {credentials}"},
    )


def test_only_the_contact_whose_email_was_neither_clicked_nor_bounced_gets_the_sms(
    clock, client, fake_postmark, opted_in_contact, django_capture_on_commit_callbacks
):
    # given three leads enter the journey and each is emailed through the ESP
    journey = email_then_sms_journey()
    clicker, bounced, quiet = (
        email_opt_in(opted_in_contact(first_name=name)) for name in ("Clicker", "Bounced", "Quiet")
    )
    with django_capture_on_commit_callbacks(execute=True):
        for contact in (clicker, bounced, quiet):
            happen(contact, "form_submit", f"offer-{contact.pk}", form="offer")
    sent = {email.to: email.message_id for email in fake_postmark.sent}
    assert sorted(sent) == sorted(c.email.lower() for c in (clicker, bounced, quiet))

    # when the clicker clicks the offer, the bounced address bounces, the quiet one is delivered
    clock.shift(timedelta(hours=3))
    link = TrackedLink.objects.get(message__contact=clicker, key="offer")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/l/{link.token}", headers={"user-agent": BROWSER}).status_code == 302
        assert (
            webhook(client, fake_postmark, "Bounce", sent[bounced.email.lower()]).status_code == 200
        )
        assert (
            webhook(client, fake_postmark, "Delivery", sent[quiet.email.lower()]).status_code == 200
        )

    # then two days later only the quiet contact is texted
    clock.move_to(MIDDAY + timedelta(days=2) - timedelta(minutes=1))
    assert advance(django_capture_on_commit_callbacks) == 0
    clock.move_to(MIDDAY + timedelta(days=2))
    assert advance(django_capture_on_commit_callbacks) == 3

    [sms] = OutboundMessage.objects.filter(journey_id=journey.pk, channel="sms")
    assert (sms.contact, sms.status) == (quiet, "delivered")
    decisions = {
        contact.first_name: list(
            Enrollment.objects.get(journey=journey, contact=contact)
            .activity.filter(kind="decision")
            .values_list("reason", flat=True)
        )
        for contact in (clicker, bounced, quiet)
    }
    assert decisions == {
        "Clicker": ["The message of step offer was clicked."],
        "Bounced": [
            "The message of step offer was not clicked.",
            "The message of step offer was bounced.",
        ],
        "Quiet": [
            "The message of step offer was not clicked.",
            "The message of step offer was not bounced.",
        ],
    }
    assert len(fake_postmark.sent) == 3  # no email went again


def test_the_builder_shows_the_caveat_of_a_branch_on_opened():
    spec = BranchSpec()
    opened = BranchConfig(condition={"step_outcome": {"step": "offer", "is": "opened"}})
    clicked = BranchConfig(condition={"step_outcome": {"step": "offer", "is": "clicked"}})
    assert spec.summary(opened, {}) == "if offer was opened (unreliable: image pre-fetching)"
    assert spec.summary(clicked, {}) == "if offer was clicked"
    assert OPENED_CAVEAT in spec.form_fields()["condition"].help_text
