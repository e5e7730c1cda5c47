"""GET /api/v1/contacts/?attr.<key>=value: equality on a custom attribute, read by its type,
in the list's one query; a key or value it cannot read is a 400 naming it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture(autouse=True)
def definitions():
    AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro"])
    AttributeDefinitionFactory(key="seats", type="number")
    AttributeDefinitionFactory(key="trial", type="boolean")
    AttributeDefinitionFactory(key="renewal_on", type="date")
    AttributeDefinitionFactory(key="signed_at", type="datetime")
    AttributeDefinitionFactory(key="region_name", type="text")
    AttributeDefinitionFactory(key="channels", type="list")
    AttributeDefinitionFactory(key="ssn", type="number", pii=True)
    AttributeDefinitionFactory(key="tier", type="text", object_type="company")


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["first_name"] for row in response.json()["results"])


@pytest.fixture
def people():
    ContactFactory(
        first_name="ada",
        attributes={
            "plan": "pro",
            "seats": 10,
            "trial": True,
            "renewal_on": "2026-09-30",
            "signed_at": "2026-03-08T06:30:00+00:00",
            "region_name": "North East",
            "channels": ["sms", "email"],
        },
    )
    ContactFactory(
        first_name="bob",
        attributes={"plan": "free", "seats": 10.5, "trial": False, "channels": ["email"]},
    )
    ContactFactory(first_name="cy", attributes={"seats": "10", "trial": "true", "plan": "Pro"})
    ContactFactory(first_name="dee", attributes={})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"attr.plan": "pro"}, ["ada"]),
        ({"attr.plan": "PRO"}, ["ada"]),  # the option, as a choice is read
        ({"attr.seats": "10"}, ["ada"]),  # a number, not the text "10" cy has
        ({"attr.seats": "10.0"}, ["ada"]),
        ({"attr.seats": "10.5"}, ["bob"]),
        ({"attr.trial": "true"}, ["ada"]),  # a boolean, not the text "true"
        ({"attr.trial": "no"}, ["bob"]),
        ({"attr.renewal_on": "2026-09-30"}, ["ada"]),
        ({"attr.signed_at": "2026-03-08T01:30:00-05:00"}, ["ada"]),  # the same moment
        ({"attr.region_name": "north east"}, ["ada"]),
        ({"attr.channels": "sms"}, ["ada"]),
        ({"attr.channels": "email"}, ["ada", "bob"]),
        ({"attr.channels": "email; sms"}, ["ada"]),
        ({"attr.plan": "pro", "attr.seats": "10"}, ["ada"]),
        ({"attr.plan": "free", "attr.seats": "10"}, []),
    ],
)
def test_it_matches_by_the_attributes_type(api, people, params, expected):
    assert names(api.get(URL, params)) == expected


def test_it_is_one_query_however_many_contacts_and_keys(api, people):
    params = {"attr.plan": "pro", "attr.seats": "10", "attr.trial": "true"}
    with CaptureQueriesContext(connection) as few:
        api.get(URL, params)
    ContactFactory.create_batch(10, attributes={"plan": "pro", "seats": 10, "trial": True})
    with CaptureQueriesContext(connection) as many:
        response = api.get(URL, params)

    assert len(names(response)) == 11
    assert len(many) == len(few)
    contact_selects = [q for q in many if 'FROM "contacts_contact"' in q["sql"]]
    assert len(contact_selects) == 1, contact_selects


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"attr.colour": "red"},
            {
                "attr.colour": [
                    "'colour' is not a contact attribute; define it first (known: channels,"
                    " plan, region_name, renewal_on, seats, signed_at, ssn, trial)."
                ]
            },
        ),
        (
            {"attr.tier": "gold"},  # a company attribute, not a contact's
            {
                "attr.tier": [
                    "'tier' is not a contact attribute; define it first (known: channels,"
                    " plan, region_name, renewal_on, seats, signed_at, ssn, trial)."
                ]
            },
        ),
        ({"attr.seats": "ten"}, {"attr.seats": ["'ten' is not a number."]}),
        ({"attr.trial": "maybe"}, {"attr.trial": ["Give true or false."]}),
        (
            {"attr.plan": "gold"},
            {"attr.plan": ["'gold' is not an option; choose from free, pro."]},
        ),
        (
            {"attr.renewal_on": "30/09/2026"},
            {"attr.renewal_on": ["Give a date as YYYY-MM-DD, e.g. 2026-03-31."]},
        ),
        (
            {"attr.signed_at": "2026-03-08T01:30:00"},
            {"attr.signed_at": ["Give the time with its offset, e.g. 2026-03-31T14:00:00-05:00."]},
        ),
        ({"attr.plan": ""}, {"attr.plan": ['Give a value; "is not set" is a segment rule.']}),
        ({"attr.plan": "  "}, {"attr.plan": ['Give a value; "is not set" is a segment rule.']}),
        ({"attr.ssn": "12-34"}, {"attr.ssn": ["This value is not a number."]}),  # PII: not echoed
        (
            {"attr.seats": "1e16"},
            {"attr.seats": ["Give a number between -10^15 and 10^15."]},
        ),
        (
            {"attr.seats": "nan"},
            {"attr.seats": ["Give a number, e.g. 42 or 3.5."]},
        ),
    ],
)
def test_a_key_or_value_it_cannot_read_is_a_400_naming_it(api, people, params, errors):
    response = api.get(URL, params)

    assert (response.status_code, response.json()) == (400, errors)


def test_every_bad_parameter_is_named_at_once(api, people):
    response = api.get(URL, {"attr.seats": "x", "attr.nope": "1", "attr.plan": "pro"})

    assert response.status_code == 400
    assert set(response.json()) == {"attr.seats", "attr.nope"}


def test_a_repeated_parameter_is_refused_not_half_read(api, people):
    response = api.get(f"{URL}?attr.plan=pro&attr.plan=free")

    assert (response.status_code, response.json()) == (400, {"attr.plan": ["Give one value."]})


def test_it_combines_with_the_other_filters(api, people):
    ContactFactory(first_name="eve", external_id="eve-1", attributes={"plan": "pro"})

    response = api.get(URL, {"attr.plan": "pro", "external_id": "eve-1"})

    assert names(response) == ["eve"]
