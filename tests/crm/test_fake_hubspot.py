"""The fake HubSpot itself, driven by the real hubspot-api-client over real HTTP: the
shapes and refusals the adapter's tests rely on."""

import json

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.objects import PublicObjectSearchRequest, SimplePublicObjectInput
from hubspot.crm.objects.exceptions import ApiException
from urllib3.util.retry import Retry

from apps.crm.testing.fake_hubspot import FakeHubSpot
from apps.crm.testing.fake_hubspot.__main__ import request_line
from tests.crm.hubspot_world import at


@pytest.fixture
def fake():
    with FakeHubSpot() as fake:
        yield fake


def client(fake, token=None):
    return HubSpot(
        access_token=token or fake.token, host=fake.base_url, retry=Retry(total=0)
    ).crm.objects


def error_of(call) -> tuple[int, dict, dict]:
    with pytest.raises(ApiException) as raised:
        call()
    return raised.value.status, json.loads(raised.value.body), dict(raised.value.headers)


def search(fake, **fields):
    return client(fake).search_api.do_search("contacts", PublicObjectSearchRequest(**fields))


def test_it_answers_401_with_hubspots_body_to_a_wrong_token(fake):
    status, body, _ = error_of(lambda: client(fake, "nope").basic_api.get_page("contacts"))

    assert status == 401
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found")
    assert body["correlationId"]
    assert fake.records("contacts") == []


def test_it_pages_the_list_by_id_with_opaque_after_tokens(fake):
    ids = fake.records_seed("contacts", 25, properties=lambda i: {"email": f"{i}@x.test"})
    api = client(fake).basic_api

    first = api.get_page("contacts", limit=10, properties=["email"])
    second = api.get_page("contacts", limit=10, after=first.paging.next.after)
    third = api.get_page("contacts", limit=10, after=second.paging.next.after)

    assert [r.id for r in first.results + second.results + third.results] == ids
    assert third.paging is None
    assert first.paging.next.after != "11"
    assert first.results[0].properties["email"] == "0@x.test"
    assert second.results[0].properties.keys() == {
        "email",
        "firstname",
        "lastname",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }


def test_the_list_refuses_more_than_100_a_page(fake):
    status, body, _ = error_of(lambda: client(fake).basic_api.get_page("contacts", limit=101))

    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"


def test_search_refuses_paging_past_10000_results(fake):
    fake.records_seed("contacts", 10_050, modified_at=at(0))
    filters = [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"}]}]

    last_allowed = search(fake, filter_groups=filters, limit=200, after="9800")
    status, body, _ = error_of(
        lambda: search(fake, filter_groups=filters, limit=200, after="10000")
    )

    assert last_allowed.total == 10_050
    assert len(last_allowed.results) == 200
    assert last_allowed.paging.next.after == "10000"
    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"
    assert "10000" in body["message"]


@pytest.mark.parametrize(
    "fields",
    [
        {"limit": 201},
        {"sorts": [{"propertyName": "email"}, {"propertyName": "firstname"}]},
        {"filter_groups": [{"filters": [{"propertyName": "email", "operator": "LIKE"}]}]},
        {"filter_groups": [{"filters": []}] * 6},
    ],
    ids=["limit", "two sorts", "operator", "groups"],
)
def test_search_refuses_what_hubspot_refuses(fake, fields):
    status, body, _ = error_of(lambda: search(fake, **fields))

    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"


def test_search_filters_and_sorts_by_modification_time(fake):
    old, mid, new = (
        fake.record_add("contacts", {"email": f"{n}@x.test"}, modified_at=at(n)) for n in (1, 2, 3)
    )
    filters = [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": "0"}]}]

    ascending = search(
        fake,
        filter_groups=[
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": str(int(at(2).timestamp() * 1000)),
                    }
                ]
            }
        ],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
    )
    descending = search(
        fake,
        filter_groups=filters,
        sorts=[{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        limit=1,
    )

    assert [r.id for r in ascending.results] == [mid, new]
    assert ascending.total == 2
    assert [r.id for r in descending.results] == [new]
    assert old not in [r.id for r in ascending.results]


def test_ties_in_the_sort_come_back_in_no_id_order(fake):
    ids = fake.records_seed("contacts", 3, modified_at=at(0))

    found = search(fake, sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}])

    assert [r.id for r in found.results] == list(reversed(ids))


def test_archived_records_are_listed_only_when_asked(fake):
    keep, gone = fake.records_seed("contacts", 2, modified_at=at(0))
    fake.record_archive("contacts", gone, archived_at=at(9))
    api = client(fake).basic_api

    live = api.get_page("contacts")
    archived = api.get_page("contacts", archived=True)

    assert [r.id for r in live.results] == [keep]
    assert [(r.id, r.archived) for r in archived.results] == [(gone, True)]
    assert archived.results[0].archived_at.isoformat().startswith("2026-01-05T12:00:09")
    assert [r.id for r in search(fake).results] == [keep]


def test_it_answers_429_with_retry_after_and_hubspots_body(fake):
    fake.rate_limit(times=1, retry_after=3)

    status, body, headers = error_of(lambda: client(fake).basic_api.get_page("contacts"))
    client(fake).basic_api.get_page("contacts")

    assert status == 429
    assert headers["Retry-After"] == "3"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert [r.status for r in fake.requests] == [429, 200]


def test_a_validation_error_names_the_property_and_writes_nothing(fake):
    contact = fake.record_add("contacts", {"email": "a@x.test"}, modified_at=at(0))
    status, body, _ = error_of(
        lambda: client(fake).basic_api.update(
            "contacts", contact, SimplePublicObjectInput(properties={"lifecyclestage": "vip"})
        )
    )

    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"
    (problem,) = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert problem["name"] == "lifecyclestage"
    assert problem["error"] == "INVALID_OPTION"
    record = fake.record("contacts", contact)
    assert "lifecyclestage" not in record["properties"]
    assert record["properties"]["lastmodifieddate"] == "2026-01-05T12:00:00.000Z"


def test_a_write_bumps_the_modification_time(fake):
    contact = fake.record_add("contacts", {"email": "a@x.test"}, modified_at=at(0))
    updated = client(fake).basic_api.update(
        "contacts", contact, SimplePublicObjectInput(properties={"firstname": "Ann"})
    )

    assert updated.properties["firstname"] == "Ann"
    assert updated.updated_at > at(0)


def test_a_hundred_thousand_contacts_seed_and_page(fake):
    ids = fake.records_seed("contacts", 100_000, modified_at=lambda i: at(i // 100))
    api = client(fake).basic_api

    page = api.get_page(
        "contacts", limit=100, after=api.get_page("contacts", limit=100).paging.next.after
    )

    assert len(ids) == 100_000
    assert fake.record_count("contacts") == 100_000
    assert [r.id for r in page.results] == ids[100:200]


def test_request_log_lines_carry_no_token_and_no_values(fake):
    fake.record_add("contacts", {"email": "secret@x.test"}, modified_at=at(0))
    client(fake).basic_api.get_page("contacts")

    line = request_line(fake.requests[-1])

    assert line.endswith("GET /crm/v3/objects/contacts -> 200")
    assert fake.token not in line
    assert "secret@x.test" not in line


def test_it_serves_a_deals_stage_history_newest_first_as_hubspot_documents_it(fake):
    deal = fake.record_add("deals", {"dealname": "D"})
    fake.deal_stage_enter(deal, "appointmentscheduled", at=at(0))
    fake.deal_stage_enter(deal, "qualifiedtobuy", at=at(86_400))
    headers = {"Authorization": f"Bearer {fake.token}", "Content-Type": "application/json"}

    listed = requests.get(
        f"{fake.base_url}/crm/v3/objects/deals",
        params={"propertiesWithHistory": "dealstage", "limit": "50"},
        headers=headers,
        timeout=5,
    ).json()
    read = requests.post(
        f"{fake.base_url}/crm/v3/objects/deals/batch/read",
        json={"inputs": [{"id": deal}, {"id": "999"}], "propertiesWithHistory": ["dealstage"]},
        headers=headers,
        timeout=5,
    ).json()
    too_many = requests.get(
        f"{fake.base_url}/crm/v3/objects/deals",
        params={"propertiesWithHistory": "dealstage", "limit": "51"},
        headers=headers,
        timeout=5,
    )

    for body in (listed, read):
        [result] = body["results"]
        versions = result["propertiesWithHistory"]["dealstage"]
        assert [(v["value"], v["timestamp"], v["sourceType"]) for v in versions] == [
            ("qualifiedtobuy", "2026-01-06T12:00:00.000Z", "CRM_UI"),
            ("appointmentscheduled", "2026-01-05T12:00:00.000Z", "CRM_UI"),
        ]
    assert too_many.status_code == 400


def test_it_reads_at_most_50_records_by_id_with_their_property_history(fake):
    deals = fake.records_seed("deals", 51, properties=lambda i: {"dealname": f"D{i}"})
    headers = {"Authorization": f"Bearer {fake.token}", "Content-Type": "application/json"}
    url = f"{fake.base_url}/crm/v3/objects/deals/batch/read"
    inputs = [{"id": deal} for deal in deals]

    with_history = requests.post(
        url, json={"inputs": inputs, "propertiesWithHistory": ["dealstage"]}, headers=headers,
        timeout=5,
    )  # fmt: skip
    fifty = requests.post(
        url, json={"inputs": inputs[:50], "propertiesWithHistory": ["dealstage"]},
        headers=headers, timeout=5,
    )  # fmt: skip
    without = requests.post(url, json={"inputs": inputs}, headers=headers, timeout=5)

    assert with_history.status_code == 400
    assert with_history.json()["message"] == (
        "The maximum number of inputs supported in a batch request for property histories "
        "is 50. Please reduce the number of items and try again"
    )
    assert (fifty.status_code, len(fifty.json()["results"])) == (200, 50)
    assert (without.status_code, len(without.json()["results"])) == (200, 51)
