"""How the HubSpot adapter meets HubSpot's refusals: waits, backoff and Cue's error types."""

import pytest

from apps.crm.adapters import (
    CONTACT,
    CrmAuthError,
    CrmError,
    CrmRateLimited,
    CrmRecordRefused,
    CrmUnavailable,
)
from apps.crm.hubspot import HubSpotAdapter, hubspot_adapter_from_settings
from apps.crm.testing.fake_hubspot import FakeHubSpot
from tests.crm.hubspot_world import adapter_for, at, drain, ids


class FakeTime:
    """One clock for the fake and the adapter; the adapter's sleep moves it forward."""

    def __init__(self, start: float):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def time_():
    return FakeTime(at(3_600).timestamp())


@pytest.fixture
def fake(time_):
    with FakeHubSpot(clock=time_) as fake:
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def adapter(fake, sleeps):
    return adapter_for(fake, sleeps, max_retry_wait=60)


def contact_list_requests(fake):
    return [r for r in fake.requests if r.path == "/crm/v3/objects/contacts"]


def test_it_waits_as_told_after_a_429_and_goes_on(fake, adapter, sleeps):
    contact = fake.record_add("contacts", {"email": "a@example.com"}, modified_at=at(0))
    fake.rate_limit(times=1, retry_after=7)

    records, _, _ = drain(adapter, CONTACT, None)

    assert ids(records) == [contact]
    assert sleeps == [7]
    assert [r.status for r in fake.requests][:2] == [429, 200]


def test_it_waits_out_a_limit_lasting_longer_than_one_answer(fake, time_):
    contact = fake.record_add("contacts", {"email": "a@example.com"}, modified_at=at(0))
    adapter = HubSpotAdapter(
        access_token=fake.token,
        base_url=fake.base_url,
        timeout=5,
        max_retry_wait=120,
        sleep=time_.sleep,
        clock=time_,
    )
    fake.rate_limit(seconds=60)

    records, _, _ = drain(adapter, CONTACT, None)

    assert ids(records) == [contact]
    assert time_.sleeps == [60]


def test_a_wait_longer_than_allowed_ends_the_run_rate_limited(fake, adapter, sleeps):
    fake.record_add("contacts", {"email": "a@example.com"}, modified_at=at(0))
    fake.rate_limit(times=1, retry_after=600)

    with pytest.raises(CrmRateLimited) as raised:
        adapter.changes(CONTACT, None, page_size=10)

    assert raised.value.retry_after == 600
    assert sleeps == []
    assert "ten_secondly_rolling" in str(raised.value)


def test_waits_adding_up_past_the_allowance_end_the_run(fake, adapter, sleeps):
    fake.rate_limit(times=10, retry_after=25)

    with pytest.raises(CrmRateLimited):
        adapter.changes(CONTACT, None, page_size=10)

    assert sleeps == [25, 25]  # a third wait would pass 60 seconds
    assert len(fake.requests) == 3


def test_a_429_without_retry_after_waits_hubspots_ten_second_window(fake, adapter, sleeps):
    fake.rate_limit(times=1, retry_after=None)
    fake.fail_next(500)  # then a 5xx: both handled within one call

    adapter.changes(CONTACT, None, page_size=10)

    assert sleeps == [10, 1]


def test_it_backs_off_after_5xx_and_goes_on(fake, adapter, sleeps):
    contact = fake.record_add("contacts", {"email": "a@example.com"}, modified_at=at(0))
    fake.fail_next(502, times=2)

    records, _, _ = drain(adapter, CONTACT, None)

    assert ids(records) == [contact]
    assert sleeps == [1, 2]


def test_it_gives_up_after_repeated_5xx(fake, adapter, sleeps):
    fake.fail_next(503, times=10)

    with pytest.raises(CrmUnavailable, match="HubSpot unavailable"):
        adapter.changes(CONTACT, None, page_size=10)

    assert sleeps == [1, 2, 4]
    assert len(fake.requests) == 4


def test_a_slow_answer_is_a_timeout_then_retried(fake, sleeps):
    contact = fake.record_add("contacts", {"email": "a@example.com"}, modified_at=at(0))
    adapter = adapter_for(fake, sleeps, timeout=0.3)
    fake.delay_next(2.0)

    records, _, _ = drain(adapter, CONTACT, None)

    assert ids(records) == [contact]
    assert sleeps == [1]


def test_a_server_that_never_answers_in_time_is_unavailable(fake, sleeps):
    adapter = adapter_for(fake, sleeps, timeout=0.2)
    fake.delay_next(1.0, times=4)

    with pytest.raises(CrmUnavailable, match=r"no answer within 0\.2s"):
        adapter.changes(CONTACT, None, page_size=10)

    assert sleeps == [1, 2, 4]


def test_a_refused_connection_is_unavailable(sleeps):
    fake = FakeHubSpot().start()
    adapter = adapter_for(fake, sleeps)
    fake.stop()

    with pytest.raises(CrmUnavailable, match="connection failed"):
        adapter.changes(CONTACT, None, page_size=10)


def test_a_wrong_token_is_an_auth_error_without_the_token(fake, sleeps):
    adapter = adapter_for(fake, sleeps, token="pat-na1-wrong-secret-value")

    with pytest.raises(CrmAuthError) as raised:
        adapter.changes(CONTACT, None, page_size=10)

    assert "401" in str(raised.value)
    assert "Authentication credentials not found" in str(raised.value)
    assert "wrong-secret" not in str(raised.value)
    assert fake.token not in str(raised.value)
    assert sleeps == []
    assert len(fake.requests) == 1


def test_an_expired_token_is_an_auth_error_mid_sync(fake, adapter, sleeps):
    fake.records_seed("contacts", 150, modified_at=at(0))
    first = adapter.changes(CONTACT, None, page_size=100)
    fake.token_expire()

    with pytest.raises(CrmAuthError, match="expired"):
        adapter.changes(CONTACT, first.cursor, page_size=100)

    assert sleeps == []


def test_no_token_configured_is_an_auth_error(fake, sleeps, settings):
    settings.HUBSPOT_ACCESS_TOKEN = ""

    with pytest.raises(CrmAuthError, match="HUBSPOT_ACCESS_TOKEN"):
        hubspot_adapter_from_settings()


def test_the_adapter_reads_its_configuration_from_settings(fake, settings):
    settings.HUBSPOT_ACCESS_TOKEN = fake.token
    settings.HUBSPOT_API_BASE_URL = fake.base_url
    contact = fake.record_add("contacts", {"email": "a@example.com"}, modified_at=at(0))

    records, _, _ = drain(hubspot_adapter_from_settings(), CONTACT, None)

    assert ids(records) == [contact]


def test_a_refused_read_is_a_crm_error_not_a_record_refusal(fake, adapter):
    cursor = {"phase": "nonsense"}

    with pytest.raises(ValueError, match="not a HubSpot cursor"):
        adapter.changes(CONTACT, cursor, page_size=10)
    with pytest.raises(CrmError) as raised:
        adapter.changes(CONTACT, {"phase": "list", "list_after": "%%%"}, page_size=10)

    assert not isinstance(raised.value, CrmRecordRefused)
    assert "Invalid paging token" in str(raised.value)
