"""The fake Salesforce itself: it answers as Salesforce documents, and refuses what it
cannot judge, so Cue's adapter cannot drift into untested queries."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_world import at

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake():
    with FakeSalesforce() as fake:
        yield fake


def token_post(fake, session, **changes):
    form = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.refresh_token,
    }
    return session.post(fake.base_url + "/services/oauth2/token", data=form | changes, timeout=5)


@pytest.fixture
def client(fake):
    session = fake.client_session()
    token = token_post(fake, session).json()["access_token"]
    return Salesforce(instance_url=fake.base_url, session_id=token, version="62.0", session=session)


def test_the_token_endpoint_answers_salesforces_shape(fake):
    answer = token_post(fake, fake.client_session())

    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert body["instance_url"] == fake.base_url
    assert body["id"].endswith("/" + fake.integration_user_id)
    assert body["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_id": "nope"}, ("invalid_client_id", "client identifier invalid")),
        ({"client_secret": "nope"}, ("invalid_client", "invalid client credentials")),
        ({"refresh_token": "nope"}, ("invalid_grant", "expired access/refresh token")),
        ({"grant_type": "password"}, ("unsupported_grant_type", "grant type not supported")),
    ],
)
def test_the_token_endpoint_refuses_wrong_credentials(fake, changes, error):
    answer = token_post(fake, fake.client_session(), **changes)

    assert answer.status_code == 400
    assert (answer.json()["error"], answer.json()["error_description"]) == error


def test_a_client_that_does_not_trust_the_fakes_ca_cannot_connect(fake):
    session = requests.Session()
    session.trust_env = False

    with pytest.raises(requests.exceptions.SSLError):
        token_post(fake, session)


def test_an_unknown_access_token_is_invalid_session_id(fake):
    client = Salesforce(
        instance_url=fake.base_url,
        session_id="00Dxx!forged",
        version="62.0",
        session=fake.client_session(),
    )

    with pytest.raises(SalesforceExpiredSession) as raised:
        client.query("SELECT Id FROM Contact")

    assert raised.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Contact WHERE LastName LIKE 'N%'", "MALFORMED_QUERY"),
        ("SELECT Id, Account.Name FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Id, (SELECT Id FROM Tasks) FROM Contact", "MALFORMED_QUERY"),
        ("SELECT COUNT() FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE CreatedDate = TODAY", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact GROUP BY LastName", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact LIMIT 10 OFFSET 5", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR Id = 'c'",
            "MALFORMED_QUERY",
        ),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"),
        ("SELECT Nope__c FROM Contact", "INVALID_FIELD"),
        ("SELECT Id, Email, email FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Contact WHERE SystemModstamp > '2026-01-05'", "INVALID_FIELD"),
        ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD"),
        ("SELECT Id FROM Campaign", "INVALID_TYPE"),
        ("SELECT Id FROM User WHERE IsDeleted = false", "INVALID_FIELD"),
    ],
)
def test_queries_outside_the_subset_are_refused_as_salesforce_would(client, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        client.query(soql)

    assert raised.value.content[0]["errorCode"] == code


def test_the_subset_filters_orders_and_limits(fake, client):
    fake.seed(
        "Contact",
        [
            {"LastName": "b", "Email": "b@example.com"},
            {"LastName": "a", "Email": None},
            {"LastName": "c", "Email": "c@example.com"},
        ],
        at=at(0),
    )
    soql = (
        "SELECT LastName FROM Contact WHERE (Email != null OR LastName IN ('a')) "
        "AND LastName NOT IN ('c') ORDER BY LastName DESC LIMIT 5"
    )

    rows = client.query(soql)["records"]

    assert [row["LastName"] for row in rows] == ["b", "a"]


def test_query_hides_deleted_rows_that_query_all_returns(fake, client):
    kept, gone = fake.seed("Account", [{"Name": "Kept"}, {"Name": "Gone"}], at=at(0))
    fake.delete("Account", gone, at=at(1))
    soql = "SELECT Id, IsDeleted FROM Account ORDER BY SystemModstamp, Id"

    assert [row["Id"] for row in client.query(soql)["records"]] == [kept]
    everything = client.query(soql, include_deleted=True)["records"]
    assert [(row["Id"], row["IsDeleted"]) for row in everything] == [(kept, False), (gone, True)]


def test_a_keyset_page_from_the_middle_of_100000_records(fake, client):
    ids = fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(100_000)], at=at(0))
    fake.modify("Contact", ids[5], at=at(1), LastName="moved")
    soql = (
        "SELECT Id FROM Contact WHERE (SystemModstamp > 2026-01-05T12:00:00Z OR "
        f"(SystemModstamp = 2026-01-05T12:00:00Z AND Id > '{ids[49_999]}')) "
        "ORDER BY SystemModstamp, Id LIMIT 3"
    )

    rows = client.query_all(soql, include_deleted=True)["records"]

    assert [row["Id"] for row in rows] == ids[50_000:50_003]
    newest = client.query(
        "SELECT Id FROM Contact WHERE SystemModstamp > 2026-01-05T12:00:00Z "
        "ORDER BY SystemModstamp, Id LIMIT 10"
    )["records"]
    assert [row["Id"] for row in newest] == [ids[5]]


@pytest.mark.parametrize(
    ("condition", "first"),
    [
        ("SystemModstamp = 2026-01-05T12:00:00Z AND Id >= '{id}'", 10),
        ("SystemModstamp = 2026-01-05T12:00:00Z AND Id > '{id}'", 11),
        ("(Id > '{id}' AND SystemModstamp = 2026-01-05T12:00:00Z)", 11),
        ("SystemModstamp >= 2026-01-05T12:00:00Z AND Id > '{id}'", 11),
        ("SystemModstamp > 2026-01-04T12:00:00Z AND (Id > '{id}' OR LastName = 'n0')", 0),
        ("SystemModstamp != null AND Id > '{id}'", 11),
    ],
)
def test_a_keyset_page_starts_where_its_position_says(fake, client, condition, first):
    ids = fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(30)], at=at(0))
    soql = (
        f"SELECT Id FROM Contact WHERE {condition.format(id=ids[10])} "
        "ORDER BY SystemModstamp, Id LIMIT 3"
    )

    rows = client.query(soql)["records"]

    expected = [ids[0], ids[11], ids[12]] if first == 0 else ids[first : first + 3]
    assert [row["Id"] for row in rows] == expected


def test_rows_named_by_a_field_in_a_list_are_found_as_by_a_scan_and_kept_current(fake, client):
    deals = fake.seed(
        "Opportunity",
        [
            {"Name": f"d{i}", "StageName": "Prospecting", "CloseDate": "2026-03-01"}
            for i in range(4)
        ],
        at=at(0),
    )
    fake.modify("Opportunity", deals[2], at=at(1), StageName="Qualification")
    fake.modify("Opportunity", deals[0], at=at(1), StageName="Qualification")
    history = (
        "SELECT OpportunityId, StageName FROM OpportunityHistory "
        f"WHERE OpportunityId IN ('{deals[2]}', '{deals[0]}', 'no such id') "
        "ORDER BY CreatedDate"
    )

    rows = client.query(history)["records"]

    # Ties on CreatedDate keep the order the rows were written in, as a scan would.
    assert [(row["OpportunityId"], row["StageName"]) for row in rows] == [
        (deals[0], "Prospecting"),
        (deals[2], "Prospecting"),
        (deals[2], "Qualification"),
        (deals[0], "Qualification"),
    ]
    fake.modify("Opportunity", deals[2], at=at(2), StageName="Closed Won")
    narrowed = history.replace("ORDER BY", "AND StageName != 'Prospecting' ORDER BY")
    rows = client.query(narrowed)["records"]
    assert [(row["OpportunityId"], row["StageName"]) for row in rows] == [
        (deals[2], "Qualification"),
        (deals[0], "Qualification"),
        (deals[2], "Closed Won"),
    ]
    either = f"SELECT Name FROM Opportunity WHERE Name IN ('d1') OR Id IN ('{deals[3]}')"
    assert sorted(row["Name"] for row in client.query(either)["records"]) == ["d1", "d3"]


def test_an_unknown_query_locator_is_refused(fake, client):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        client.query_more("/services/data/v62.0/query/01gNOPE-2000", identifier_is_url=True)

    assert raised.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_composite_refuses_more_than_200_records_and_creates_none(fake, client):
    contact = fake.create("Contact", LastName="Ng")
    records = [{"attributes": {"type": "Task"}, "WhoId": contact}] * 201

    with pytest.raises(SalesforceMalformedRequest) as raised:
        client.restful("composite/sobjects", method="POST", json={"records": records})

    assert raised.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert fake.records("Task") == []


def test_composite_all_or_none_rolls_back_every_record(fake, client):
    contact = fake.create("Contact", LastName="Ng")
    records = [
        {"attributes": {"type": "Task"}, "WhoId": contact, "Subject": "ok"},
        {"attributes": {"type": "Task"}, "WhoId": contact, "Status": "Bogus"},
    ]

    answer = client.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )

    assert [item["errors"][0]["statusCode"] for item in answer] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    ]
    assert fake.records("Task") == []


def test_required_fields_and_read_only_fields_are_refused_on_create(fake, client):
    with pytest.raises(SalesforceMalformedRequest) as missing:
        client.restful("sobjects/Lead/", method="POST", json={"FirstName": "Li"})
    with pytest.raises(SalesforceMalformedRequest) as read_only:
        client.restful(
            "sobjects/Lead/",
            method="POST",
            json={"LastName": "Li", "Company": "Acme", "IsConverted": True},
        )

    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert missing.value.content[0]["fields"] == ["LastName", "Company"]
    assert read_only.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert fake.records("Lead") == []


def test_run_by_hand_it_prints_the_ca_to_trust_and_serves_tls():
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.crm.testing.fake_salesforce", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = [process.stdout.readline() for _ in range(6)]
        exports = dict(line.strip().removeprefix("export ").split("=", 1) for line in lines[1:])
        session = requests.Session()
        session.trust_env = False
        session.verify = exports["REQUESTS_CA_BUNDLE"]
        answer = session.post(
            exports["SALESFORCE_LOGIN_URL"] + "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": exports["SALESFORCE_CLIENT_ID"],
                "client_secret": exports["SALESFORCE_CLIENT_SECRET"],
                "refresh_token": exports["SALESFORCE_REFRESH_TOKEN"],
            },
            timeout=5,
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        process.stdout.close()
    assert process.returncode == 0
    assert not Path(exports["REQUESTS_CA_BUNDLE"]).exists()  # its throwaway CA is removed
