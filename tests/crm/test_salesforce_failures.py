"""Salesforce saying no: limits, outages, expired and refused tokens."""

import logging
from dataclasses import replace

import pytest

from apps.crm.adapters import (
    CONTACT,
    ActivityOut,
    CrmAuthError,
    CrmRateLimited,
    CrmUnavailable,
    TaskOut,
)
from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_world import adapter_for, at, data_requests


@pytest.fixture
def fake():
    with FakeSalesforce(batch_size=2) as fake:
        fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(6)], at=at(0))
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def adapter(fake, sleeps):
    return adapter_for(fake, sleeps)


def test_request_limit_exceeded_waits_the_configured_time_then_goes_on(fake, adapter, sleeps):
    fake.limit_exceeded(times=1)

    page = adapter.changes(CONTACT, None, page_size=6)

    assert len(page.records) == 6
    assert sleeps == [60.0]


def test_a_429_waits_as_long_as_retry_after_says(fake, adapter, sleeps):
    adapter.changes(CONTACT, None, page_size=1)  # logged in
    fake.throttle(times=1, retry_after=7)

    page = adapter.changes(CONTACT, None, page_size=6)

    assert len(page.records) == 6
    assert sleeps == [7.0]


def test_a_wait_longer_than_allowed_is_not_waited_but_reported(fake, adapter, sleeps):
    fake.throttle(times=1, retry_after=3600)

    with pytest.raises(CrmRateLimited) as raised:
        adapter.changes(CONTACT, None, page_size=6)

    assert raised.value.retry_after == 3600.0
    assert sleeps == []


def test_still_limited_after_one_wait_is_reported_with_the_wait(fake, adapter, sleeps):
    fake.limit_exceeded(times=2)

    with pytest.raises(CrmRateLimited, match="REQUEST_LIMIT_EXCEEDED") as raised:
        adapter.changes(CONTACT, None, page_size=6)

    assert raised.value.retry_after == 60.0
    assert sleeps == [60.0]


def test_the_configured_wait_is_capped_by_the_longest_allowed(fake, sleeps):
    adapter = adapter_for(fake, sleeps, max_retry_wait=30.0)
    fake.limit_exceeded(times=1)

    with pytest.raises(CrmRateLimited) as raised:
        adapter.changes(CONTACT, None, page_size=6)

    assert raised.value.retry_after == 60.0
    assert sleeps == []


def test_5xx_answers_are_retried_with_backoff(fake, adapter, sleeps):
    adapter.changes(CONTACT, None, page_size=1)
    fake.fail_next(503, times=2)

    page = adapter.changes(CONTACT, None, page_size=6)

    assert len(page.records) == 6
    assert sleeps == [1.0, 4.0]


def test_salesforce_down_for_good_is_unavailable_after_three_waits(fake, adapter, sleeps):
    adapter.changes(CONTACT, None, page_size=1)
    fake.fail_next(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred", times=10)

    with pytest.raises(CrmUnavailable, match="after 4 attempts: UNKNOWN_EXCEPTION"):
        adapter.changes(CONTACT, None, page_size=6)

    assert sleeps == [1.0, 4.0, 16.0]


def test_a_slow_answer_is_a_timeout_retried_for_reads(fake, sleeps):
    adapter = adapter_for(fake, sleeps, timeout=0.5)
    adapter.changes(CONTACT, None, page_size=1)
    fake.delay_next(2.0, times=1)

    page = adapter.changes(CONTACT, None, page_size=6)

    assert len(page.records) == 6
    assert sleeps == [1.0]


def test_a_create_that_timed_out_is_not_sent_again(fake, sleeps):
    adapter = adapter_for(fake, sleeps, timeout=0.5)
    contact = fake.records("Contact")[0]["Id"]
    adapter.changes(CONTACT, None, page_size=1)
    fake.delay_next(2.0, times=1)
    task = TaskOut("task:1", contact, None, "Call", "", at(60), "normal")

    with pytest.raises(CrmUnavailable, match="may have been applied"):
        adapter.task_save(task, None)

    assert len(fake.records("Task")) == 1  # Salesforce did create it; Cue did not repeat
    assert len([r for r in fake.requests if r.method == "POST" and "sobjects" in r.path]) == 1
    assert sleeps == []


def test_a_create_that_timed_out_is_found_by_its_retry_and_not_made_twice(fake, sleeps):
    # Given a task create Salesforce took, its answer too late (no External ID field)
    adapter = adapter_for(fake, sleeps, timeout=0.5)
    contact, other = (record["Id"] for record in fake.records("Contact")[:2])
    adapter.changes(CONTACT, None, page_size=1)
    fake.delay_next(2.0, times=1)
    task = TaskOut("task:1", contact, None, "Call", "Asked for pricing", at(60), "normal")
    with pytest.raises(CrmUnavailable):
        adapter.task_save(task, None)
    # and another Task of that person and subject, not Cue's one
    adapter.task_save(TaskOut("task:2", contact, None, "Call", "", at(60), "normal"), None)
    [made] = [t["Id"] for t in fake.records("Task") if "[Cue task:1]" in t["Description"]]

    # When the push retries it
    found = adapter.task_save(replace(task, retry=True), None)

    # Then it is the task made the first time, and there are still two
    assert found == made
    assert len(fake.records("Task")) == 2
    # and a retry for a task never made does create it, once
    fresh = adapter.task_save(
        TaskOut("task:3", other, None, "Call", "", at(60), "normal", retry=True), None
    )
    assert [t["Id"] for t in fake.records("Task") if t["WhoId"] == other] == [fresh]


def test_a_token_expiring_mid_paging_is_refreshed_exactly_once(fake, adapter):
    adapter.changes(CONTACT, None, page_size=1)
    fake.expire_token_after(requests=1)  # the query passes, its first query_more does not

    page = adapter.changes(CONTACT, None, page_size=6)

    assert len(page.records) == 6
    assert fake.token_requests == 2  # the login and one refresh
    statuses = [request.status for request in data_requests(fake, "queryAll")]
    assert statuses == [200, 200, 401, 200, 200]


def test_a_session_refused_after_the_refresh_is_an_auth_error(fake, adapter):
    adapter.changes(CONTACT, None, page_size=1)
    fake.expire_tokens()
    fake.revoke_refresh_token()

    with pytest.raises(CrmAuthError, match="invalid_grant"):
        adapter.changes(CONTACT, None, page_size=6)

    assert fake.token_requests == 2


def test_a_wrong_client_secret_is_an_auth_error_naming_no_secret(fake, sleeps):
    adapter = adapter_for(fake, sleeps, client_secret="wrong-secret")

    with pytest.raises(CrmAuthError) as raised:
        adapter.changes(CONTACT, None, page_size=6)

    assert str(raised.value) == (
        "Salesforce refused Cue's refresh token: invalid_client (invalid client credentials)"
    )
    assert "wrong-secret" not in str(raised.value)
    assert data_requests(fake, "queryAll") == []


def test_tokens_and_secrets_never_reach_the_logs(fake, adapter, caplog):
    caplog.set_level(logging.DEBUG)
    fake.limit_exceeded(times=1)
    fake.expire_token_after(requests=2)

    adapter.changes(CONTACT, None, page_size=6)

    access_tokens = [adapter.connection.client().session_id]
    assert fake.token_requests == 2
    for secret in (fake.client_secret, fake.refresh_token, *access_tokens):
        assert secret not in caplog.text
    assert fake.client_secret not in repr(adapter.connection)
    assert fake.refresh_token not in repr(adapter.connection)


def test_throttling_for_a_while_answers_429_until_it_ends(fake, adapter, sleeps):
    adapter.changes(CONTACT, None, page_size=1)
    fake.throttle(seconds=600, retry_after=5)

    with pytest.raises(CrmRateLimited) as raised:
        adapter.changes(CONTACT, None, page_size=6)

    assert raised.value.retry_after == 5.0
    assert sleeps == [5.0]
    assert [request.status for request in fake.requests[-2:]] == [429, 429]


def test_a_salesforce_that_refuses_connections_is_unavailable(fake, sleeps):
    adapter = adapter_for(fake, sleeps)
    fake.stop()

    with pytest.raises(CrmUnavailable, match="token endpoint: ConnectionError"):
        adapter.changes(CONTACT, None, page_size=6)

    assert sleeps == [1.0, 4.0, 16.0]


def test_a_create_that_could_not_connect_is_retried_then_unavailable(fake, adapter, sleeps):
    contact = fake.records("Contact")[0]["Id"]
    adapter.changes(CONTACT, None, page_size=1)  # logged in, connection kept alive
    fake.stop()

    with pytest.raises(CrmUnavailable, match="after 4 attempts: ConnectionError"):
        adapter.task_save(TaskOut("task:1", contact, None, "Call", "", at(60), "normal"), None)

    assert sleeps == [1.0, 4.0, 16.0]
    assert fake.records("Task") == []


def sms(key: str, person: str, *, retry: bool = False) -> ActivityOut:
    return ActivityOut(key, person, at(60), "outbound", "delivered", "See you at 9", retry=retry)


def test_an_sms_activity_whose_answer_was_lost_is_found_by_its_retry_not_made_twice(fake, sleeps):
    # Given an SMS activity Salesforce created, its answer lost (no External ID field)
    adapter = adapter_for(fake, sleeps, timeout=0.5)
    contact, other = (record["Id"] for record in fake.records("Contact")[:2])
    adapter.changes(CONTACT, None, page_size=1)
    fake.delay_next(2.0, times=1)
    with pytest.raises(CrmUnavailable, match="may have been applied"):
        adapter.activities_log([sms("message:1:delivered", contact)])
    # and another SMS activity of that person, not this one
    [second] = adapter.activities_log([sms("message:2:delivered", contact)])
    [made] = [
        t["Id"] for t in fake.records("Task") if "[Cue message:1:delivered]" in t["Description"]
    ]

    # When the push retries it in a batch with one never sent before
    results = adapter.activities_log(
        [
            sms("message:1:delivered", contact, retry=True),
            sms("message:3:delivered", other, retry=True),
        ]
    )

    # Then the first is the Task made the first time and only the new one is created
    [fresh] = [t["Id"] for t in fake.records("Task") if t["WhoId"] == other]
    assert [(r.key, r.record_id, r.error) for r in results] == [
        ("message:1:delivered", made, ""),
        ("message:3:delivered", fresh, ""),
    ]
    assert sorted(t["Id"] for t in fake.records("Task")) == sorted([made, second.record_id, fresh])
