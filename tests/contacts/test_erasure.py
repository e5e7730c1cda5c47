"""Erasing a person: no trace of them is left in any table, while what the law needs kept
stays provable without the identity (the ledger's rows, a STOP that still binds the
number), reports count the same, and the erasure is in the audit trail without the data."""

from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from apps.accounts import roles
from apps.consent.models import ConsentRecord, LedgerErasure, Suppression
from apps.contacts.erasure.services import contact_erase, contact_erase_preview
from apps.contacts.erasure.traces import address_erased_key
from apps.contacts.errors import ContactsError
from apps.contacts.models import Contact, DataSubjectRequest
from apps.journeys.models import Enrollment, EnrollmentState
from apps.reporting.models import Attribution
from apps.routing.models import FollowUpTask
from apps.sends.models import MessageStatus, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from tests.contacts.erasure_world import (
    MIDDAY,
    PHONE,
    TRACES,
    model_tables_scanned,
    person_with_everything,
    traces_left,
)
from tests.factories import ContactFactory, UserFactory
from tests.journeys.builders import journey_build

pytestmark = pytest.mark.django_db
REASON = "Art. 17 request received 2026-03-09 by email"


@pytest.fixture(autouse=True)
def midday(settings):
    settings.TWILIO_ACCOUNT_SID = ""  # the console transport
    with time_machine.travel(MIDDAY + timedelta(hours=1), tick=False):
        yield


@pytest.fixture
def officer(db):
    return UserFactory(role=roles.COMPLIANCE, username="officer")


@pytest.fixture
def person(officer):
    rep = UserFactory(role=roles.SALES_REP, username="rep")
    journey = journey_build(steps=[("wait", "wait", {"hours": 1})])
    return person_with_everything(admin=officer, rep=rep, journey=journey)


def test_it_leaves_no_trace_of_the_person_in_any_column_of_any_table(person, officer):
    # given Zelphine, with her traces in every kind of row (and the scan finds them)
    assert traces_left(TRACES)
    ledger_rows = ConsentRecord.objects.count()
    attribution = list(Attribution.objects.values())

    # when Compliance erases her
    result = contact_erase(contact=person.contact, actor=officer, reason=REASON)

    # then no column of any table holds her phone, email, names, ids, texts, IPs or agent
    assert traces_left(TRACES) == []
    # and the ledger kept every row, the attribution rows are untouched
    assert ConsentRecord.objects.count() == ledger_rows
    assert list(Attribution.objects.values()) == attribution
    assert sum(result.counts.values()) > 0


def test_the_scan_reads_every_models_table():
    # every model's table (history and many-to-many tables too) is among those scanned
    with connection.cursor() as cursor:
        tables = {t.name for t in connection.introspection.get_table_list(cursor)}
    assert model_tables_scanned() <= tables


def test_a_stop_still_binds_the_erased_number_for_a_new_contact(person, officer):
    # given Zelphine texted STOP, then was erased
    contact_erase(contact=person.contact, actor=officer, reason=REASON)

    # when someone else gets her number and a message is made for them
    newcomer = ContactFactory(phone=PHONE, email="new.owner@example.com")
    message = message_create(
        send_key="after-erasure", origin="test_send", category="marketing",
        contact=newcomer, body="Cue Demo: hello. Reply STOP to opt out.",
    )  # fmt: skip

    # then the gate refuses it: the number is on the list under its keyed hash
    assert (message.decision, message.reason_code) == ("suppress", "suppressed_opt_out_keyword")
    entry = Suppression.objects.get(reason="opt_out_keyword")
    assert entry.address == address_erased_key(PHONE)


def test_the_ledger_keeps_its_rows_with_the_address_hashed(person, officer):
    # given her ledger: an opt-in with evidence, and the STOP
    before = list(ConsentRecord.objects.order_by("pk").values("pk", "action", "occurred_at"))

    contact_erase(contact=person.contact, actor=officer, reason=REASON)

    # then the same rows, same actions and times, for the hash of her number, no evidence
    after = ConsentRecord.objects.order_by("pk")
    assert list(after.values("pk", "action", "occurred_at")) == before
    assert set(after.values_list("address", flat=True)) == {address_erased_key(PHONE)}
    assert set(after.values_list("ip_address", "user_agent", "note")) == {(None, "", "")}
    assert LedgerErasure.objects.count() == 0  # the leave lasted only the erasure


def test_a_plain_update_of_the_ledger_is_still_refused(person, officer):
    # given an erasure has run (and with it the trigger's exception for erasures)
    contact_erase(contact=person.contact, actor=officer, reason=REASON)
    row = ConsentRecord.objects.first()

    # when someone rewrites a row's address without an erasure's leave: refused
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_consentrecord SET address = %s WHERE id = %s",
            ["erased:forged", row.pk],
        )
    # and even with a leave, a change to anything but the evidence is refused
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerErasure.objects.create(contact_id=row.contact_id)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE consent_consentrecord SET address = %s, source = 'admin' WHERE id = %s",
                ["erased:forged", row.pk],
            )
    assert ConsentRecord.objects.get(pk=row.pk).address == row.address


def test_the_preview_counts_what_the_erasure_touches_and_writes_nothing(person, officer):
    preview = contact_erase_preview(contact=person.contact)
    assert DataSubjectRequest.objects.count() == 0
    assert Contact.objects.get(pk=person.contact.pk).email  # nothing erased yet

    result = contact_erase(contact=person.contact, actor=officer, reason=REASON)

    assert set(result.counts) == set(preview)
    # the opt-in, and the STOP ending marketing and transactional consent
    assert preview["Consent ledger rows (kept, address hashed)"] == 3
    assert result.counts["Consent ledger rows (kept, address hashed)"] == 3
    assert preview["Outbound messages"] == result.counts["Outbound messages"] == 2


def test_the_erasure_is_in_the_audit_trail_without_the_data(person, officer):
    result = contact_erase(contact=person.contact, actor=officer, reason=REASON)

    record = DataSubjectRequest.objects.get()
    assert (record.kind, record.contact_id, record.actor, record.reason) == (
        "erasure", person.contact.pk, officer, REASON,
    )  # fmt: skip
    assert record.counts == result.counts
    assert not any(value.lower() in str(record.counts).lower() for value in TRACES)


def test_erasing_twice_is_refused_and_changes_nothing(person, officer):
    contact_erase(contact=person.contact, actor=officer, reason=REASON)
    contact = Contact.objects.get(pk=person.contact.pk)

    with pytest.raises(ContactsError) as refused:
        contact_erase(contact=contact, actor=officer, reason="Again")

    assert (refused.value.field, refused.value.code) == ("contact", "already_erased")
    assert DataSubjectRequest.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "   ", "Zelphine asked us", "request from +14155550142"])
def test_a_reason_that_is_missing_or_names_the_person_is_refused(person, officer, reason):
    with pytest.raises(ContactsError) as refused:
        contact_erase(contact=person.contact, actor=officer, reason=reason)

    assert refused.value.field == "reason"
    assert Contact.objects.get(pk=person.contact.pk).erased_at is None
    assert DataSubjectRequest.objects.count() == 0


def test_running_work_stops(person, officer):
    contact_erase(contact=person.contact, actor=officer, reason=REASON)

    assert FollowUpTask.objects.get().status == "canceled"
    enrollment = Enrollment.objects.get()
    assert (enrollment.state, enrollment.next_run_at) == (EnrollmentState.EXITED, None)


# --- A message on its way ------------------------------------------------------------------


def test_a_queued_message_is_cancelled_and_never_claimed(person, officer):
    # given a message queued to her, not yet claimed by dispatch
    queued = OutboundMessage.objects.create(
        contact=person.contact, to_address=PHONE, body="Soon", category="marketing",
        origin="journey", send_key="zq-queued", status=MessageStatus.QUEUED,
    )  # fmt: skip

    # when she is erased, then dispatch runs
    contact_erase(contact=person.contact, actor=officer, reason=REASON)
    outcome = message_dispatch(message_id=queued.pk)

    # then the message was cancelled and dispatch did not claim it
    queued.refresh_from_db()
    assert outcome == "not_claimed"
    assert (queued.status, queued.reason_code, queued.body) == ("canceled", "contact_erased", "")


def test_an_emails_stored_html_is_erased_with_its_text(person, officer):
    email = OutboundMessage.objects.create(
        contact=person.contact, to_address="ada@example.com", channel="email", subject="Hi Ada",
        body="Hi Ada", html="<p>Hi Ada</p>", category="marketing", origin="journey",
        send_key="zq-email", status=MessageStatus.SENT,
    )  # fmt: skip

    contact_erase(contact=person.contact, actor=officer, reason=REASON)

    email.refresh_from_db()
    assert (email.body, email.subject, email.html) == ("", "", "")


def test_a_message_being_handed_to_the_provider_makes_the_erasure_wait(person, officer):
    # given a message claimed by dispatch (status sending: the provider call is under way)
    sending = OutboundMessage.objects.create(
        contact=person.contact, to_address=PHONE, body="Now", category="marketing",
        origin="journey", send_key="zq-sending", status=MessageStatus.SENDING,
    )  # fmt: skip

    # when Compliance erases her: refused for now, and nothing changed
    with pytest.raises(ContactsError) as refused:
        contact_erase(contact=person.contact, actor=officer, reason=REASON)

    assert refused.value.code == "busy"
    assert Contact.objects.get(pk=person.contact.pk).erased_at is None
    assert OutboundMessage.objects.get(pk=sending.pk).to_address == PHONE

    # and once the message has its outcome, the erasure goes through
    OutboundMessage.objects.filter(pk=sending.pk).update(status=MessageStatus.SENT)
    contact_erase(contact=person.contact, actor=officer, reason=REASON)
    assert OutboundMessage.objects.get(pk=sending.pk).to_address == address_erased_key(PHONE)


def test_the_gate_refuses_an_erased_contact_whatever_the_origin(person, officer):
    contact_erase(contact=person.contact, actor=officer, reason=REASON)
    erased = Contact.objects.get(pk=person.contact.pk)

    message = message_create(
        send_key="to-erased", origin="keyword_reply", category="transactional", contact=erased,
        to_address="+14155550100", body="Cue Demo: you are unsubscribed.",
    )  # fmt: skip

    assert (message.decision, message.reason_code) == ("suppress", "contact_erased")
