"""The gate enforces what a contact asked for in their preferences: a channel turned off,
or only the topics they still want (matched against the template's tags)."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in, preference_set
from apps.library.models import MessageTemplate
from apps.sends.services.messages import message_create
from tests.sends.templates import approved_sms_version

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 10:00 in Chicago


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


def sent(contact, *, key="m1", category="marketing", channel="sms", version=None, origin="journey"):
    return message_create(
        send_key=key,
        origin=origin,
        category=category,
        channel=channel,
        contact=contact,
        subject="Hello" if channel == "email" else "",
        template_version=version,
        body=None if version else "Acme: your webinar starts soon. Reply STOP to opt out.",
    )


def tagged(tags: str):
    version = approved_sms_version(name=f"About {tags}")
    MessageTemplate.objects.filter(pk=version.template_id).update(tags=tags)
    version.template.refresh_from_db()
    return version


@pytest.mark.parametrize("origin", ["journey", "rep_reply"])
@pytest.mark.parametrize("category", ["marketing", "transactional"])
def test_sms_turned_off_refuses_every_sms_with_its_own_reason(opted_in_contact, origin, category):
    contact = opted_in_contact()
    preference_set(contact=contact, sms_enabled=False)

    message = sent(contact, category=category, origin=origin)

    assert (message.status, message.reason_code, message.reason) == (
        "suppressed",
        "preference_sms_off",
        "The contact turned SMS off in their preferences.",
    )


def test_email_turned_off_refuses_email_but_not_sms(opted_in_contact):
    contact = opted_in_contact(email="ada@example.com")
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    preference_set(contact=contact, email_enabled=False)

    email = sent(contact, key="e1", channel="email")
    sms = sent(contact, key="s1")

    assert (email.status, email.reason_code) == ("suppressed", "preference_email_off")
    assert sms.status == "queued"


def test_topics_admit_only_marketing_tagged_with_one_of_them(opted_in_contact):
    contact = opted_in_contact()
    preference_set(contact=contact, topics=["Webinars"])

    about_pricing = sent(contact, key="p", version=tagged("pricing, offers"))
    about_webinars = sent(contact, key="w", version=tagged(" webinars ,onboarding"))
    untagged = sent(contact, key="u")
    transactional = sent(contact, key="t", category="transactional")

    assert (about_pricing.status, about_pricing.reason_code) == (
        "suppressed",
        "preference_topic_unsubscribed",
    )
    assert about_pricing.reason == (
        "The contact wants only webinars; this message is about offers, pricing."
    )
    assert untagged.reason_code == "preference_topic_unsubscribed"
    assert (about_webinars.status, transactional.status) == ("queued", "queued")


def test_no_topics_named_means_every_topic(opted_in_contact):
    contact = opted_in_contact()
    preference_set(contact=contact, topics=[])
    assert sent(contact, version=tagged("pricing")).status == "queued"
