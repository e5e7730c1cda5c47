"""How one Segment message is read: its time in every shape Segment's clients send, its ids
and its properties, and the exact reason an odd one is refused."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.segment_intake.messages import (
    Rejected,
    event_properties_of,
    message_read,
)

NOW = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
AT = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
ISO_8601 = "must be an ISO 8601 date and time, e.g. 2025-03-01T14:30:00Z."


def read(**fields):
    message = {"type": "track", "userId": "u-1", "event": "Opened", "messageId": "m-1", **fields}
    return message_read(message, type_=None, now=NOW)


def refusal(**fields) -> str:
    with pytest.raises(Rejected) as refused:
        read(**fields)
    return refused.value.reason


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-02T15:30:00Z", AT),  # analytics.js, analytics-node
        ("2026-11-02T15:30:00.123Z", AT.replace(microsecond=123000)),  # JavaScript's toISOString
        ("2026-11-02T15:30:00.123456Z", AT.replace(microsecond=123456)),
        ("2026-11-02T15:30:00.123456+00:00", AT.replace(microsecond=123456)),  # Python's
        ("2026-11-02T10:30:00-05:00", AT),  # a device's own offset
        ("2026-11-02T21:00:00.5+05:30", AT.replace(microsecond=500000)),
        ("2026-11-02T21:00:00+0530", AT),  # an offset without its colon
        ("2026-11-02 15:30:00Z", AT),  # a space for the T
        ("2026-11-02T15:30Z", AT),  # no seconds
        ("2026-11-02T15:30:00", AT),  # no offset: Segment reads it as UTC
        ("2026-11-02T15:30:00.1234567Z", AT.replace(microsecond=123456)),  # beyond microseconds
    ],
)
def test_every_timestamp_shape_segments_clients_send_is_read_as_its_utc_moment(timestamp, expected):
    occurred_at = read(timestamp=timestamp).occurred_at

    assert (occurred_at, occurred_at.tzinfo) == (expected, UTC)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"timestamp": "yesterday"}, f"timestamp {ISO_8601}"),
        ({"timestamp": ""}, f"timestamp {ISO_8601}"),
        ({"timestamp": "2026-13-02T15:30:00Z"}, f"timestamp {ISO_8601}"),
        ({"timestamp": "2026-11-02T25:00:00Z"}, f"timestamp {ISO_8601}"),
        ({"timestamp": 1793633400}, f"timestamp {ISO_8601}"),
        ({"timestamp": ["2026-11-02T15:30:00Z"]}, f"timestamp {ISO_8601}"),
        ({"timestamp": "0001-01-01T00:30:00+01:00"}, "timestamp is out of range."),
        ({"originalTimestamp": "soon"}, f"originalTimestamp {ISO_8601}"),
        (
            {"originalTimestamp": "2026-11-02T15:30:00Z", "sentAt": "later"},
            f"sentAt {ISO_8601}",
        ),
        (
            {"originalTimestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-12-31T00:00:00Z"},
            "originalTimestamp and sentAt are too far apart.",
        ),
    ],
)
def test_an_odd_time_is_refused_saying_which_field_and_why(fields, reason):
    assert refusal(**fields) == reason


def test_an_original_timestamp_is_corrected_by_the_devices_clock_and_none_at_all_is_now():
    fast_clock = read(
        timestamp=None,
        originalTimestamp="2026-11-02T17:30:00+02:00",  # 15:30 UTC on a clock 10 minutes fast
        sentAt="2026-11-02T15:50:00Z",
    )

    assert fast_clock.occurred_at == NOW - timedelta(minutes=20)
    assert read(originalTimestamp="2026-11-02T15:30:00Z").occurred_at == AT  # no sentAt
    assert read().occurred_at == NOW


def test_the_batchs_sent_at_is_used_when_the_message_has_none():
    message = {"type": "track", "userId": "u-1", "event": "Opened",
               "originalTimestamp": "2026-11-02T15:30:00Z"}  # fmt: skip

    read_in_batch = message_read(message, type_=None, now=NOW, sent_at="2026-11-02T15:40:00Z")

    assert read_in_batch.occurred_at == NOW - timedelta(minutes=10)


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [(42, "42"), ("  u-1 ", "u-1"), ("u-1", "u-1")],
)
def test_a_user_id_may_be_a_number_and_is_trimmed(user_id, expected):
    assert read(userId=user_id).user_id == expected


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"userId": True}, "userId must be a string."),
        ({"userId": 4.5}, "userId must be a string."),
        ({"userId": {"id": 1}}, "userId must be a string."),
        ({"userId": "u" * 101}, "userId is longer than 100 characters."),
        ({"userId": "", "anonymousId": None}, "Give a userId or an anonymousId."),
        ({"userId": "   "}, "Give a userId or an anonymousId."),
        ({"messageId": False}, "messageId must be a string."),
        ({"traits": "vip"}, "traits must be a JSON object."),
    ],
)
def test_a_bad_id_or_traits_is_refused_with_why(fields, reason):
    assert refusal(**fields) == reason


def test_a_tracks_properties_are_stored_as_sent_and_a_page_gets_its_name_and_category():
    track = read(properties={"total": 42, "items": [{"sku": "a"}]})
    page_sent = {"type": "page", "anonymousId": "a-1", "name": "Pricing", "category": "Docs",
                 "properties": {"path": "/pricing", "name": "Own name"}}  # fmt: skip
    page = message_read(page_sent, type_=None, now=NOW)

    assert event_properties_of(track) == {"total": 42, "items": [{"sku": "a"}]}
    assert event_properties_of(page) == {"path": "/pricing", "name": "Own name", "category": "Docs"}
    assert page_sent["properties"] == {"path": "/pricing", "name": "Own name"}  # as it came


def test_properties_that_are_no_object_are_refused():
    with pytest.raises(Rejected) as refused:
        event_properties_of(read(properties=["total", 42]))

    assert refused.value.reason == "properties must be a JSON object."
