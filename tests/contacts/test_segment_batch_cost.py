"""What a Segment batch costs the database: a fixed number of queries whatever its size, one
look-up of its userIds, nothing written for rejections it has none of, and the write key
marked used at most once a minute."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.contacts.models import ContactExternalId, Event
from apps.segment_intake.keys import write_key_create
from apps.segment_intake.models import SegmentRejection, SegmentWriteKey
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

OCCURRED = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def write_key():
    return write_key_create(name="Website")


@pytest.fixture
def post(client, write_key):
    _row, key = write_key
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()

    def post(messages):
        body = json.dumps({"batch": messages, "sentAt": OCCURRED.isoformat()})
        response = client.post(
            "/segment/v1/batch", body, content_type="application/json", HTTP_AUTHORIZATION=auth
        )
        assert (response.status_code, response.json()) == (200, {"success": True})

    return post


@pytest.fixture
def users():
    """40 contacts Segment knows by their userIds u-0 … u-39."""
    contacts = ContactFactory.create_batch(40)
    ContactExternalId.objects.bulk_create(
        ContactExternalId(contact=contact, source="segment", value=f"u-{n}")
        for n, contact in enumerate(contacts)
    )
    return contacts


def track(n: int, user: int) -> dict:
    return {
        "type": "track",
        "userId": f"u-{user}",
        "event": "Pricing Viewed",
        "properties": {"page": "/pricing", "n": n},
        "timestamp": (OCCURRED + timedelta(seconds=n)).isoformat(),
        "messageId": f"m-{n}",
    }


def queries_of(post, messages) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        post(messages)
    return [query["sql"] for query in captured.captured_queries]


def test_a_batch_of_forty_costs_the_queries_of_a_batch_of_one(post, users):
    post([track(0, 0)])  # the key is marked used by the first request

    one = queries_of(post, [track(1, 1)])
    forty = queries_of(post, [track(n, n - 2) for n in range(2, 42)])

    assert len(forty) == len(one)
    # the userIds are looked up once, the contacts' ids in Segment read with them
    assert len([sql for sql in forty if "contactexternalid" in sql.lower()]) == 1
    assert not [sql for sql in one + forty if "segmentrejection" in sql.lower()]
    assert Event.objects.count() == 42
    assert set(Event.objects.values_list("contact_id", flat=True)) == {c.pk for c in users}


def test_a_user_named_by_many_events_of_a_batch_is_one_contact(post, users):
    post([track(n, 7) for n in range(5)] + [track(5, 8)])

    stored = Event.objects.order_by("idempotency_key").values_list("contact_id", flat=True)
    assert list(stored) == [users[7].pk] * 5 + [users[8].pk]


def test_a_rejected_message_is_still_recorded_with_its_reason(post, users, write_key):
    post([track(0, 0), {**track(1, 1), "timestamp": "yesterday"}])

    rejection = SegmentRejection.objects.get()
    assert (rejection.write_key, rejection.message_id, rejection.reason) == (
        write_key[0],
        "m-1",
        "timestamp must be an ISO 8601 date and time, e.g. 2025-03-01T14:30:00Z.",
    )
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == ["segment:m-0"]


def test_the_write_key_is_marked_used_at_most_once_a_minute(post, users, write_key):
    row = write_key[0]
    post([track(0, 0)])
    marked = SegmentWriteKey.objects.get(pk=row.pk).last_used_at

    again = queries_of(post, [track(1, 1)])

    assert not [sql for sql in again if sql.startswith('UPDATE "segment_intake_segmentwritekey"')]
    assert SegmentWriteKey.objects.get(pk=row.pk).last_used_at == marked
    long_ago = timezone.now() - timedelta(minutes=2)
    SegmentWriteKey.objects.filter(pk=row.pk).update(last_used_at=long_ago)

    post([track(2, 2)])

    assert SegmentWriteKey.objects.get(pk=row.pk).last_used_at > long_ago + timedelta(minutes=1)
