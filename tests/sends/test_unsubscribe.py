"""Every email carries a one-click List-Unsubscribe link that ends email consent, and only that."""

import re

import pytest
from django.core import mail

from apps.consent.models import Channel, ConsentSource, ConsentState, Purpose, Suppression
from apps.consent.services import ConsentError, consent_opt_in
from apps.contacts.services import contact_update
from apps.sends.models import OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed(opted_in_contact, settings):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    contact = opted_in_contact()
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    message = message_create(
        send_key="e1",
        origin="journey",
        category="marketing",
        channel="email",
        contact=contact,
        subject="Our pricing guide",
        body="Here is the guide you asked for.",
    )
    assert message_dispatch(message_id=message.pk) == "sent"
    [email] = mail.outbox
    link = re.match(
        r"<https://cue\.example\.com(/unsubscribe/[^>]+/)>", email.extra_headers["List-Unsubscribe"]
    ).group(1)
    return contact, link


def states(contact):
    return dict(
        ConsentState.objects.filter(contact=contact)
        .values_list("channel", "status")
        .order_by("channel")
    )


def test_it_sends_the_rfc_8058_headers(emailed):
    [email] = mail.outbox
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_asks_before_unsubscribing_on_a_plain_visit(client, emailed):
    contact, link = emailed
    response = client.get(link)
    assert response.status_code == 200
    assert states(contact) == {"email": "opted_in", "sms": "opted_in"}


def test_it_unsubscribes_email_only_on_the_one_click_post(client, emailed):
    contact, link = emailed
    queued = message_create(
        send_key="e2",
        origin="journey",
        category="marketing",
        channel="email",
        contact=contact,
        subject="Reminder",
        body="Hi",
    )
    response = client.post(link, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    email_states = set(
        ConsentState.objects.filter(contact=contact, channel="email").values_list(
            "status", flat=True
        )
    )
    assert email_states == {"opted_out"}
    assert ConsentState.objects.get(contact=contact, channel="sms").status == "opted_in"
    queued.refresh_from_db()
    assert queued.status == "canceled"


@pytest.mark.parametrize("token", ["1", "not-a-signed-token"])
def test_it_refuses_a_forged_link_and_changes_nothing(client, emailed, token):
    contact, _ = emailed
    assert (
        client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}).status_code == 404
    )
    assert states(contact) == {"email": "opted_in", "sms": "opted_in"}
    assert OutboundMessage.objects.filter(status="canceled").count() == 0


def test_it_suppresses_the_email_address_itself_whoever_has_it_next(client, emailed):
    # given the recipient unsubscribed with one click
    contact, link = emailed
    address = contact.email
    client.post(link, {"List-Unsubscribe": "One-Click"})

    # then the address is on the suppression list, with why
    entry = Suppression.objects.get()
    assert (entry.channel, entry.address, entry.reason, entry.contact) == (
        "email", address.lower(), Suppression.Reason.EMAIL_UNSUBSCRIBE, contact,
    )  # fmt: skip

    # when the address moves to another contact, spelled in other case, opted in by the CRM
    contact_update(contact=contact, fields={"email": "ada.new@example.com"})
    other = ContactFactory(email=address.upper())
    with pytest.raises(ConsentError):
        consent_opt_in(
            contact=other, channel=Channel.EMAIL, purpose=Purpose.MARKETING,
            source=ConsentSource.API,
        )  # fmt: skip
    message = message_create(
        send_key="e3", origin="journey", category="transactional", channel="email",
        contact=other, subject="Receipt", body="Thanks",
    )  # fmt: skip

    # then nothing goes to the address
    assert (message.status, message.reason_code) == ("suppressed", "suppressed_email_unsubscribe")
