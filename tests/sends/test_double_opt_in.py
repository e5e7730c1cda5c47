"""A web-form opt-in to marketing SMS asks for a YES, once, through the send pipeline."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        yield


def test_it_asks_for_yes_once_when_a_web_form_opt_in_is_pending(django_capture_on_commit_callbacks):
    contact = ContactFactory(time_zone="America/Chicago")
    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.WEB_FORM,
        )
    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.WEB_FORM,
        )  # still pending: no second request
    [request] = OutboundMessage.objects.filter(contact=contact)
    assert (request.origin, request.category, request.status) == (
        "double_opt_in",
        "transactional",
        "delivered",
    )
    assert request.body.startswith("Cue Demo: Reply YES to confirm")


def test_it_asks_nothing_when_consent_needs_no_confirmation(django_capture_on_commit_callbacks):
    contact = ContactFactory(time_zone="America/Chicago")
    with django_capture_on_commit_callbacks(execute=True):
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.API,
        )
    assert OutboundMessage.objects.filter(contact=contact).count() == 0
