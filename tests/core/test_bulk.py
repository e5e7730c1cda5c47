"""rows_update saves what bulk_update saves, in one statement, for every kind of column;
rows_insert stores what bulk_create stores (by COPY on PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.contacts.models import Contact
from apps.core.bulk import rows_insert, rows_update
from apps.sends.models import MessageEvent, OutboundMessage
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

FIELDS = [
    "first_name", "phone", "company", "intent_score", "lifecycle_stage_changed_at",
    "erased_at", "attributes", "region",
]  # fmt: skip


def _changed(contacts, company, tail="9"):
    values = [
        ("Zoë", f"+1415555099{tail}", company, 12.5, datetime(2026, 3, 1, 9, 30, tzinfo=UTC), None,
         {"plan": "pro", "tags": ["a", "b"], "n": None}, "FL"),
        ("", "", None, 0.0, None, datetime(2026, 1, 2, tzinfo=UTC), {}, ""),
        ("O'Brien; DROP", f"+44207183875{tail}", company, -1.0, None, None, {"q": "it's"}, "TX"),
    ]  # fmt: skip
    for contact, row in zip(contacts, values, strict=True):
        for name, value in zip(FIELDS, row, strict=True):
            setattr(contact, name, value)
    return values


def _stored(contacts):
    rows = Contact.objects.filter(pk__in=[c.pk for c in contacts]).order_by("pk")
    return [
        tuple(str(getattr(c, n)) if n == "phone" else getattr(c, n) for n in FIELDS) for c in rows
    ]


def test_it_saves_each_row_its_own_values_in_one_statement():
    company = CompanyFactory()
    contacts = sorted(ContactFactory.create_batch(3), key=lambda c: c.pk)
    untouched = ContactFactory(first_name="Else")
    values = _changed(contacts, company)

    with CaptureQueriesContext(connection) as queries:
        assert rows_update(contacts, FIELDS) == 3

    assert len(queries) == 1
    expected = [
        tuple(str(v) if n == "phone" else v for n, v in zip(FIELDS, row, strict=True))
        for row in values
    ]
    assert _stored(contacts) == expected
    untouched.refresh_from_db()
    assert untouched.first_name == "Else"


def test_it_stores_what_bulk_update_stores():
    company = CompanyFactory()
    ours = sorted(ContactFactory.create_batch(3), key=lambda c: c.pk)
    theirs = sorted(ContactFactory.create_batch(3), key=lambda c: c.pk)
    _changed(ours, company)
    _changed(theirs, company, tail="8")

    rows_update(ours, FIELDS)
    Contact.objects.bulk_update(theirs, FIELDS)

    assert [row[:1] + row[2:] for row in _stored(ours)] == [
        row[:1] + row[2:] for row in _stored(theirs)
    ]


def test_nothing_to_save_is_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert rows_update([], FIELDS) == 0
    assert len(queries) == 0


def test_a_row_deleted_meanwhile_is_not_counted():
    contacts = ContactFactory.create_batch(2)
    Contact.objects.filter(pk=contacts[0].pk).delete()
    contacts[1].first_name = "Kept"

    assert rows_update(contacts, ["first_name"]) == 1
    assert Contact.objects.get(pk=contacts[1].pk).first_name == "Kept"


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite keeps no lengths")
def test_a_value_too_long_for_its_column_is_refused_not_cut_short():
    contact = ContactFactory(first_name="Short")
    contact.first_name = "x" * 101  # the column holds 100

    with pytest.raises(DataError), transaction.atomic():
        rows_update([contact], ["first_name"])

    assert Contact.objects.get(pk=contact.pk).first_name == "Short"


def _events(message):
    details = [{"why": 'it\'s \\ "quoted"\t', "n": 2**40, "zoë": [None, True, 1.5]}, {}]
    return [
        MessageEvent(message=message, kind="decision", status="queued", detail=d, dedupe_key=k)
        for d, k in zip(details, ["k-1", None], strict=True)
    ]


def _message():
    return OutboundMessage.objects.create(
        send_key="bulk", to_address="+13125550100", body="Hi", category="marketing",
        origin="journey",
    )  # fmt: skip


def test_rows_insert_stores_what_bulk_create_stores_and_draws_ids_when_asked():
    message = _message()
    copied, created = _events(message), _events(message)
    for event in created:
        event.dedupe_key = event.dedupe_key and event.dedupe_key + "-b"

    rows_insert(copied, with_ids=True)
    MessageEvent.objects.bulk_create(created)

    def stored(events):
        rows = MessageEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")
        return [(r.message_id, r.kind, r.status, r.detail, r.at) for r in rows]

    assert [e.pk for e in copied] == sorted(e.pk for e in copied)
    assert stored(copied) == [(message.pk, "decision", "queued", e.detail, e.at) for e in copied]
    assert [row[:4] for row in stored(copied)] == [row[:4] for row in stored(created)]
    assert [e._state.adding for e in copied] == [False, False]


def test_rows_insert_refuses_a_duplicate_whole_with_integrity_error():
    message = _message()
    rows_insert(_events(message))
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(_events(message))
    assert MessageEvent.objects.filter(message=message).count() == 2
