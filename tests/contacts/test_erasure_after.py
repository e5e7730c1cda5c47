"""After an erasure: the number's suppression, kept under its keyed hash, is found by every
look-up by address (a STOP adds no second row, a START lifts it), and nothing writes to the
erased contact again (an API update, an event, a service call), each with a clear reason."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, Suppression
from apps.consent.selectors import address_is_suppressed
from apps.consent.services import address_revocation, suppression_add, suppression_remove
from apps.contacts.erasure.services import contact_erase
from apps.contacts.erasure.traces import address_erased_key
from apps.contacts.errors import ContactsError
from apps.contacts.events import record_event
from apps.contacts.models import Contact, Event
from apps.contacts.services import contact_update
from apps.sends.services.inbound import InboundText, inbound_receive
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db
PHONE = "+14155550177"
TWILIO_NUMBER = "+15005550006"
NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def afternoon(settings):
    settings.TWILIO_ACCOUNT_SID = ""  # the console transport
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def officer(db):
    return UserFactory(role=roles.COMPLIANCE, username="officer")


@pytest.fixture
def erased(officer):
    """A person who texted STOP, then was erased."""
    contact = ContactFactory(phone=PHONE, email="erase.me@example.com")
    suppression_add(
        address=PHONE, reason=Suppression.Reason.OPT_OUT_KEYWORD,
        source=ConsentSource.KEYWORD, contact=contact,
    )  # fmt: skip
    contact_erase(contact=contact, actor=officer, reason="Art. 17 request of 2026-03-09")
    contact.refresh_from_db()
    return contact


def _text(body: str, sid: str) -> None:
    inbound_receive(
        text=InboundText(sid=sid, from_address=PHONE, to_address=TWILIO_NUMBER, body=body)
    )


def test_every_look_up_by_the_number_finds_the_hashed_suppression(erased):
    hashed = address_erased_key(PHONE)
    assert list(Suppression.objects.values_list("address", flat=True)) == [hashed]
    assert address_is_suppressed(address=PHONE) is True
    assert address_revocation(address="(415) 555-0177", channel=Channel.SMS).address == hashed


def test_a_stop_from_the_erased_number_adds_no_second_row(erased):
    _text("STOP", "SM" + "1" * 32)
    again = suppression_add(
        address=PHONE, reason=Suppression.Reason.STOP_UNKNOWN_SENDER, source=ConsentSource.KEYWORD
    )
    assert list(Suppression.objects.values_list("pk", "address")) == [
        (again.pk, address_erased_key(PHONE))
    ]


def test_a_start_from_the_erased_number_lifts_the_hashed_suppression(erased):
    _text("START", "SM" + "2" * 32)
    assert Suppression.objects.count() == 0
    assert address_is_suppressed(address=PHONE) is False


def test_a_manual_entry_under_the_hash_is_not_lifted_by_start(officer):
    contact = ContactFactory(phone=PHONE)
    suppression_add(
        address=PHONE, reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN,
        contact=contact,
    )  # fmt: skip
    contact_erase(contact=contact, actor=officer, reason="Art. 17 request of 2026-03-09")
    assert suppression_remove(address=PHONE) == 0
    assert list(Suppression.objects.values_list("address", "reason")) == [
        (address_erased_key(PHONE), Suppression.Reason.MANUAL)
    ]


def test_an_update_of_the_erased_contact_is_refused_and_changes_nothing(erased):
    with pytest.raises(ContactsError) as refused:
        contact_update(contact=erased, fields={"first_name": "Back"})
    assert refused.value.code == "erased"
    assert refused.value.message == (
        f"Contact {erased.pk} was erased on 2026-03-10: nothing is written to it again. "
        "A person who returns is a new contact."
    )
    assert Contact.objects.get(pk=erased.pk).first_name == ""


def test_the_api_refuses_an_update_of_the_erased_contact_with_400(erased):
    client = APIClient()
    client.force_authenticate(UserFactory(role=roles.ADMIN, username="boss"))
    response = client.patch(f"/api/v1/contacts/{erased.pk}/", {"first_name": "Back"}, format="json")
    assert response.status_code == 400
    assert "was erased on 2026-03-10" in str(response.json())
    assert Contact.objects.get(pk=erased.pk).first_name == ""


def test_an_event_for_the_erased_contact_is_refused(erased):
    with pytest.raises(ContactsError) as refused:
        record_event(
            contact=erased, type="pricing_view", occurred_at=NOW - timedelta(minutes=1),
            idempotency_key="after-erasure",
        )  # fmt: skip
    assert refused.value.code == "erased"
    assert not Event.objects.filter(idempotency_key="after-erasure").exists()


def test_the_events_api_refuses_an_event_naming_the_erased_contact_by_id(erased):
    client = APIClient()
    client.force_authenticate(UserFactory(role=roles.ADMIN, username="boss"))
    other = ContactFactory(phone="+14155550178")
    response = client.post(
        "/api/v1/events/",
        {
            "events": [
                {"contact": {"id": erased.pk}, "type": "pricing_view",
                 "occurred_at": "2026-03-10T16:59:00Z", "idempotency_key": "erased-1"},
                {"contact": {"id": other.pk}, "type": "pricing_view",
                 "occurred_at": "2026-03-10T16:59:00Z", "idempotency_key": "kept-1"},
            ]
        },
        format="json",
    )  # fmt: skip
    assert response.status_code in (200, 207)
    results = response.json()["results"]
    assert results[0]["status"] == "error"
    assert "was erased on 2026-03-10" in str(results[0]["errors"])
    assert results[1]["status"] == "created"
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == ["kept-1"]
