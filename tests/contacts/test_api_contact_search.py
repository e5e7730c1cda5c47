"""POST /api/v1/contacts/search/: look-ups by phone or email go in the body, never in a URL
(access logs keep URLs); the list refuses ?phone= and ?email= with a 400 pointing here."""

import pytest
from rest_framework.test import APIClient

from apps.accounts import roles
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/contacts/search/"
LIST = "/api/v1/contacts/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def crowd(make_user):
    rita = make_user(roles.SALES_REP, username="rita")
    return {
        "rita": rita,
        "ada": ContactFactory(email="Ada@Example.com", phone="+16175550100", external_id="x-1"),
        "ritas": ContactFactory(email="r@example.com", phone="+16175550101", owner=rita),
        "other": ContactFactory(email="o@example.com", phone="+16175550102"),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "ada@example.com"}, ["ada"]),
        ({"phone": "(617) 555-0100"}, ["ada"]),
        ({"phone": "+16175550100", "external_id": "x-1"}, ["ada"]),
        ({"email": "nobody@example.com"}, []),
    ],
)
def test_it_finds_contacts_by_phone_or_email_in_the_body(api, crowd, body, expected):
    response = api.post(SEARCH, body, format="json")
    assert ids(response) == [crowd[name].pk for name in expected]


def test_a_rep_finds_only_their_own(crowd):
    rep = client_for(crowd["rita"])
    assert ids(rep.post(SEARCH, {"email": "r@example.com"}, format="json")) == [crowd["ritas"].pk]
    assert ids(rep.post(SEARCH, {"email": "o@example.com"}, format="json")) == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"phone": "555"}, {"phone": ["Enter a valid phone number, e.g. +14155550123."]}),
        ({"email": ["a@example.com", "b@example.com"]}, {"email": ["Give one text value."]}),
        ({"email": None}, {"email": ["Give one text value."]}),
        ({"kind": "partner"}, {"kind": ['"partner" is not one of: prospect, customer.']}),
    ],
)
def test_a_bad_search_is_a_400_naming_the_field(api, crowd, body, errors):
    response = api.post(SEARCH, body, format="json")
    assert (response.status_code, response.json()) == (400, errors)


def test_a_body_that_is_not_an_object_is_refused(api, crowd):
    response = api.post(SEARCH, ["ada@example.com"], format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Give a JSON object of filters."]}


@pytest.mark.parametrize("query", ["phone=%2B16175550100", "email=ada@example.com"])
def test_the_list_refuses_a_phone_or_email_in_the_url_and_points_to_the_search(api, crowd, query):
    response = api.get(f"{LIST}?{query}")
    name = query.split("=")[0]
    assert (response.status_code, response.json()) == (
        400,
        {
            name: [
                "Phone numbers and emails are not taken in URLs (access logs keep URLs): "
                f'POST {{"{name}": …}} to /api/v1/contacts/search/ instead.'
            ]
        },
    )


def test_the_list_keeps_its_other_filters(api, crowd):
    assert ids(api.get(LIST, {"external_id": "x-1"})) == [crowd["ada"].pk]


def test_the_schema_lists_no_phone_or_email_query_parameter_anywhere(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    query_params = {
        (path, parameter["name"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    list_params = {name for path, name in query_params if path == LIST}
    assert {"external_id", "owner", "updated_since"} <= list_params
    assert {(path, name) for path, name in query_params if name in ("phone", "email")} == set()
    body = schema["paths"][SEARCH]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"phone", "email"} <= set(schema["components"]["schemas"][name]["properties"])
