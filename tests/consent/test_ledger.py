"""The consent ledger is append-only evidence, and the current state always follows it."""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.consent.models import (
    AppendOnlyError,
    Channel,
    ConsentAction,
    ConsentAttempt,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    Purpose,
    Suppression,
)
from apps.consent.services import (
    ConsentError,
    Evidence,
    consent_confirm,
    consent_opt_in,
    consent_opt_out,
    consent_record,
    consent_revoke_channel,
    consent_status_after,
    suppression_add,
)
from tests.consent.forms import optin_form
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the DELETE trigger exists on PostgreSQL only"
)
with_update_trigger = pytest.mark.skipif(
    connection.vendor not in ("sqlite", "postgresql"), reason="no UPDATE trigger on this database"
)


@pytest.fixture
def contact():
    return ContactFactory(phone="+14155552671")


@pytest.fixture
def record(contact):
    return consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )


def stored(record) -> ConsentRecord:
    return ConsentRecord.objects.get(pk=record.pk)


def state_of(contact, purpose=Purpose.MARKETING) -> ConsentState:
    return ConsentState.objects.get(contact=contact, channel=Channel.SMS, purpose=purpose)


# Append-only through the ORM


def test_it_refuses_a_queryset_update(record):
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.filter(pk=record.pk).update(action=ConsentAction.OPT_OUT)

    assert stored(record).action == ConsentAction.OPT_IN


def test_it_refuses_a_related_manager_update(contact, record):
    with pytest.raises(AppendOnlyError):
        contact.consent_records.update(note="changed")

    assert stored(record).note == ""


def test_it_refuses_a_bulk_update(record):
    record.note = "changed"

    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.bulk_update([record], ["note"])

    assert stored(record).note == ""


def test_it_refuses_a_queryset_delete(record):
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.filter(pk=record.pk).delete()

    assert ConsentRecord.objects.filter(pk=record.pk).count() == 1


def test_it_refuses_saving_an_existing_record(record):
    record.action = ConsentAction.OPT_OUT

    with pytest.raises(AppendOnlyError):
        record.save()

    assert stored(record).action == ConsentAction.OPT_IN


def test_it_refuses_deleting_a_record(record):
    with pytest.raises(AppendOnlyError):
        record.delete()

    assert ConsentRecord.objects.filter(pk=record.pk).count() == 1


# Append-only in the database itself


@with_update_trigger
def test_it_refuses_a_raw_sql_update(record):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_consentrecord SET action = %s, note = %s WHERE id = %s",
            [ConsentAction.OPT_OUT, "forged", record.pk],
        )

    assert (stored(record).action, stored(record).note) == (ConsentAction.OPT_IN, "")


@on_postgresql
def test_it_refuses_a_raw_sql_delete_of_a_recent_record(record):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_consentrecord WHERE id = %s", [record.pk])

    assert ConsentRecord.objects.filter(pk=record.pk).count() == 1


def recorded_six_years_ago(contact):
    with time_machine.travel(timezone.now() - timedelta(days=6 * 366)):
        return consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.IMPORT,
        )


@on_postgresql
def test_it_lets_a_record_past_the_five_year_retention_be_deleted(contact):
    old = recorded_six_years_ago(contact)
    recent = consent_opt_out(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_consentrecord WHERE id = %s", [old.pk])
        deleted = cursor.rowcount

    assert deleted == 1
    assert list(ConsentRecord.objects.filter(contact=contact).values_list("pk", flat=True)) == [
        recent.pk
    ]


@on_postgresql
def test_retention_runs_from_when_cue_recorded_the_row_not_the_date_it_claims(contact):
    backdated = consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.IMPORT,
        occurred_at=timezone.now() - timedelta(days=6 * 366),
    )

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_consentrecord WHERE id = %s", [backdated.pk])

    assert ConsentRecord.objects.filter(pk=backdated.pk).count() == 1


@on_postgresql
@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
def test_a_record_a_message_relied_on_within_five_years_is_kept(contact, channel):
    from apps.sends.models import OutboundMessage

    old = recorded_six_years_ago(contact)
    consent_opt_out(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    OutboundMessage.objects.create(
        contact=contact, channel=channel, to_address=str(contact.phone), body="Hi",
        category="marketing", origin="journey", send_key="relied", status="delivered",
        queued_at=timezone.now() - timedelta(days=4 * 366),
        sent_at=timezone.now() - timedelta(days=4 * 366),
    )  # fmt: skip

    with connection.cursor() as cursor:
        if channel == Channel.SMS:
            with pytest.raises(IntegrityError), transaction.atomic():
                cursor.execute("DELETE FROM consent_consentrecord WHERE id = %s", [old.pk])
        else:  # a message on another channel did not rely on the SMS ledger
            cursor.execute("DELETE FROM consent_consentrecord WHERE id = %s", [old.pk])

    assert ConsentRecord.objects.filter(pk=old.pk).count() == (1 if channel == Channel.SMS else 0)


@on_postgresql
def test_it_refuses_to_truncate_the_ledger(record):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in a transaction of its own
        cursor.execute("TRUNCATE consent_consentrecord CASCADE")

    assert ConsentRecord.objects.filter(pk=record.pk).count() == 1


# The current state follows the ledger


def test_it_keeps_the_state_equal_to_a_replay_of_the_ledger(contact):
    now = timezone.now()
    # After the opt-out only the consumer opts back in: the hosted form, then YES texted.
    form = Evidence(form=optin_form())
    text = Evidence(inbound_message_sid="SM" + "c" * 32, keyword="YES")
    steps = [
        (ConsentAction.OPT_IN, ConsentSource.IMPORT, now - timedelta(hours=3), None),
        (ConsentAction.OPT_OUT, ConsentSource.KEYWORD, now - timedelta(hours=2), None),
        (ConsentAction.OPT_IN, ConsentSource.WEB_FORM, now - timedelta(hours=1), form),
        (ConsentAction.CONFIRM, ConsentSource.KEYWORD, now - timedelta(minutes=30), text),
    ]

    for action, source, at, evidence in steps:
        consent_record(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            action=action,
            source=source,
            occurred_at=at,
            evidence=evidence,
        )

    state = state_of(contact)
    replayed, stamps = consent_status_after(list(ConsentRecord.objects.filter(contact=contact)))
    assert (state.status, replayed) == (ConsentStatus.OPTED_IN, ConsentStatus.OPTED_IN)
    assert (state.opted_in_at, state.confirmed_at, state.opted_out_at) == (
        steps[2][2],
        steps[3][2],
        steps[1][2],
    )
    assert stamps == {
        "opted_in_at": steps[2][2],
        "confirmed_at": steps[3][2],
        "opted_out_at": steps[1][2],
    }


def test_it_refuses_a_late_arriving_older_import_opt_in_after_an_opt_out(contact):
    now = timezone.now()
    consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.IMPORT,
        occurred_at=now - timedelta(hours=2),
    )
    opt_out = consent_opt_out(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.KEYWORD,
        occurred_at=now,
    )

    with pytest.raises(ConsentError) as refused:
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.IMPORT,
            occurred_at=now - timedelta(hours=1),
        )

    state = state_of(contact)
    replayed, _ = consent_status_after(list(ConsentRecord.objects.filter(contact=contact)))
    assert (state.status, replayed) == (ConsentStatus.OPTED_OUT, ConsentStatus.OPTED_OUT)
    assert state.last_record_id == opt_out.pk
    assert ConsentRecord.objects.filter(contact=contact).count() == 2
    assert refused.value.code == "revoked_contact"
    assert list(ConsentAttempt.objects.values_list("source", "reason_code")) == [
        (ConsentSource.IMPORT, "revoked_contact")
    ]


# Double opt-in


def test_it_holds_a_web_form_opt_in_pending_until_confirmed(contact):
    consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.WEB_FORM,
    )
    assert state_of(contact).status == ConsentStatus.PENDING

    confirmation = consent_confirm(contact=contact, source=ConsentSource.KEYWORD)

    state = state_of(contact)
    assert state.status == ConsentStatus.OPTED_IN
    assert state.confirmed_at == confirmation.occurred_at
    assert confirmation.action == ConsentAction.CONFIRM


def test_it_refuses_a_confirmation_with_nothing_pending(contact):
    with pytest.raises(ConsentError) as raised:
        consent_confirm(contact=contact, source=ConsentSource.KEYWORD)

    assert raised.value.code == "nothing_pending"
    assert ConsentRecord.objects.filter(contact=contact).count() == 0
    assert ConsentState.objects.filter(contact=contact).count() == 0


def test_it_ends_every_purpose_on_the_channel_at_stop(contact):
    for purpose in (Purpose.MARKETING, Purpose.TRANSACTIONAL):
        consent_opt_in(
            contact=contact, channel=Channel.SMS, purpose=purpose, source=ConsentSource.WEB_FORM
        )
    assert state_of(contact, Purpose.MARKETING).status == ConsentStatus.PENDING
    assert state_of(contact, Purpose.TRANSACTIONAL).status == ConsentStatus.OPTED_IN

    records = consent_revoke_channel(
        contact=contact, channel=Channel.SMS, source=ConsentSource.KEYWORD
    )

    assert [(r.purpose, r.action) for r in records] == [
        (Purpose.MARKETING, ConsentAction.OPT_OUT),
        (Purpose.TRANSACTIONAL, ConsentAction.OPT_OUT),
    ]
    assert state_of(contact, Purpose.MARKETING).status == ConsentStatus.OPTED_OUT
    assert state_of(contact, Purpose.TRANSACTIONAL).status == ConsentStatus.OPTED_OUT


# Suppression


def test_it_keeps_one_suppression_when_added_twice():
    first = suppression_add(
        address="+14155552671",
        reason=Suppression.Reason.STOP_UNKNOWN_SENDER,
        source=ConsentSource.KEYWORD,
    )

    second = suppression_add(
        address="+14155552671", reason=Suppression.Reason.MANUAL, source=ConsentSource.ADMIN
    )

    assert second.pk == first.pk
    assert list(Suppression.objects.values_list("address", "reason")) == [
        ("+14155552671", Suppression.Reason.STOP_UNKNOWN_SENDER)
    ]
