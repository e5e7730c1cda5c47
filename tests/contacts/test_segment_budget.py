"""Each Segment write key has a budget of requests a minute: a leaked key cannot flood Cue.
Over it, 429 with Retry-After and nothing stored (Segment's clients retry a 429 after
Retry-After); a client that keeps sending bad keys is turned away the same way."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.contacts.models import Contact, Event
from apps.segment_intake.keys import write_key_create
from apps.segment_intake.models import SegmentRejection

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 15, 30, 10, tzinfo=UTC)
BUDGET = 3


@pytest.fixture(autouse=True)
def small_budgets(settings):
    settings.THROTTLE_SEGMENT_PER_MINUTE = BUDGET
    settings.THROTTLE_SEGMENT_REFUSALS_PER_MINUTE = 2


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _track(client, key: str, message_id: str, *, in_body: bool = False):
    body = {
        "userId": "u-1",
        "event": "Order Completed",
        "timestamp": (NOW - timedelta(minutes=1)).isoformat(),
        "messageId": message_id,
    }
    headers = {}
    if in_body:
        body["writeKey"] = key
    else:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return client.post(
        "/segment/v1/track", json.dumps(body), content_type="application/json", headers=headers
    )


def _stored() -> tuple[int, int, int]:
    return Contact.objects.count(), Event.objects.count(), SegmentRejection.objects.count()


@pytest.mark.parametrize("in_body", [False, True], ids=["header", "body"])
def test_a_key_over_its_budget_gets_429_and_nothing_is_stored(client, clock, in_body):
    # given a key that has spent its budget of requests this minute
    _, key = write_key_create(name="Website")
    for n in range(BUDGET):
        assert _track(client, key, f"m-{n}", in_body=in_body).status_code == 200
    before = _stored()
    # when it sends one more within the minute
    clock.shift(timedelta(seconds=50))
    refused = _track(client, key, "m-over", in_body=in_body)
    # then 429, to be retried after the window, and nothing of it stored
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert refused.json()["success"] is False
    assert _stored() == before
    assert not Event.objects.filter(idempotency_key__contains="m-over").exists()


def test_another_key_is_unaffected_and_the_key_works_again_after_the_minute(client, clock):
    _, spent = write_key_create(name="Leaked")
    _, other = write_key_create(name="App")
    for n in range(BUDGET + 2):
        _track(client, spent, f"s-{n}")

    assert _track(client, other, "o-1").status_code == 200
    assert _track(client, spent, "s-late").status_code == 429
    clock.shift(timedelta(seconds=61))
    assert _track(client, spent, "s-next").status_code == 200
    assert Event.objects.count() == BUDGET + 2  # 3 + the other key's + the next minute's


def test_a_client_sending_bad_keys_is_turned_away_even_with_a_good_one(client, clock):
    # given a client whose bad keys were refused up to its refusal budget
    _, good = write_key_create(name="Website")
    assert _track(client, "cue_seg_forged", "f-1").status_code == 401
    assert _track(client, "cue_seg_guess", "f-2", in_body=True).status_code == 401
    # when it tries again, with any key
    forged, honest = _track(client, "cue_seg_more", "f-3"), _track(client, good, "g-1")
    # then it is turned away for the rest of the minute, and nothing is stored
    assert (forged.status_code, honest.status_code) == (429, 429)
    assert _stored() == (0, 0, 0)
    clock.shift(timedelta(seconds=61))
    assert _track(client, good, "g-2").status_code == 200


def test_good_requests_never_spend_the_refusal_budget(client, clock):
    _, key = write_key_create(name="Website")

    answers = [_track(client, key, f"m-{n}").status_code for n in range(BUDGET)]

    assert answers == [200] * BUDGET
    assert _track(client, "cue_seg_forged", "f-1").status_code == 401


def test_unreadable_bodies_without_a_key_spend_the_refusal_budget(client, clock):
    garbage = [
        client.post("/segment/v1/track", "not json", content_type="application/json")
        for _ in range(3)
    ]

    assert [answer.status_code for answer in garbage] == [400, 400, 429]
    assert _stored() == (0, 0, 0)
