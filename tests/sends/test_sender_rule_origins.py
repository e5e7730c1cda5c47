"""The sender rule holds for every marketing text, whoever made it: a rep's, an API's or a
test's marketing text from an unregistered sender is refused at creation and at dispatch,
as a journey's is; a transactional text and an email are not the rule's business."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in
from apps.sends.models import OutboundMessage, Sender
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BODY = "Acme: our spring offer is on. Reply STOP to opt out."
REFUSAL = (
    "Local line may not send marketing: its registration is Pending, and a Phone number "
    "(10DLC) needs 10DLC campaign approved."
)


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def local(db):
    """The default sender, its 10DLC campaign not approved yet."""
    return Sender.objects.create(
        name="Local line", kind="long_code", address="+13125550100", registration="pending",
        mps=Decimal("8"), is_default=True,
    )  # fmt: skip


def create(contact, *, origin: str, category: str = "marketing", key: str = "m", **more):
    return message_create(
        send_key=key, origin=origin, category=category, contact=contact, body=BODY, **more
    )


@pytest.mark.parametrize("origin", ["journey", "rep_reply", "test_send", "notification"])
def test_marketing_from_an_unregistered_sender_is_refused_whatever_made_it(
    fake_twilio, opted_in_contact, local, origin
):
    message = create(opted_in_contact(), origin=origin)
    assert (message.status, message.reason_code, message.reason) == (
        "suppressed", "sender_unregistered", REFUSAL,
    )  # fmt: skip
    assert fake_twilio.messages_sent() == []


def test_a_transactional_text_from_the_same_sender_goes(fake_twilio, opted_in_contact, local):
    message = create(opted_in_contact(), origin="rep_reply", category="transactional")
    assert message.status == "queued"
    assert message_dispatch(message_id=message.pk) == "sent"
    [sent] = fake_twilio.messages_sent()
    assert sent["From"] == "+13125550100"


def test_a_registration_withdrawn_after_creation_holds_a_reps_marketing_at_dispatch(
    fake_twilio, opted_in_contact, local
):
    local.registration = "campaign_approved"
    local.save()
    message = create(opted_in_contact(), origin="rep_reply")
    assert message.status == "queued"
    Sender.objects.filter(pk=local.pk).update(registration="rejected")

    assert message_dispatch(message_id=message.pk) == "suppressed"
    message.refresh_from_db()
    assert (message.status, message.reason_code) == ("suppressed", "sender_unregistered")
    assert fake_twilio.messages_sent() == []


def test_an_allowed_reps_marketing_text_names_the_sender_check_it_passed(
    fake_twilio, opted_in_contact, local
):
    local.registration = "campaign_approved"
    local.save()
    message = create(opted_in_contact(), origin="rep_reply")
    decision = message.log.get(kind="decision")
    assert {"rule": "extra", "checks": ["sender_registration"]} in decision.detail["inputs"][
        "passed"
    ]


def test_a_marketing_email_is_not_held_by_a_text_senders_registration(
    opted_in_contact, local, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    contact = opted_in_contact(email="ada@example.com")
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    message = create(contact, origin="journey", channel="email", subject="Spring offer")
    assert (message.status, message.reason_code) == ("queued", "allowed")
    assert OutboundMessage.objects.get(pk=message.pk).from_sender_id is None
