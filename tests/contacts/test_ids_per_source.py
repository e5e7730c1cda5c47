"""A contact named by any source's id: the events API, the REST contacts API (read, write,
look up) and the identity keys behind them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.contacts.external_ids import external_id_api_sync, external_id_set
from apps.contacts.identity import contact_keys, identity_resolve
from apps.contacts.models import Contact, ContactExternalId, Event
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

EVENTS_URL = "/api/v1/events/"
CONTACTS_URL = "/api/v1/contacts/"
SOURCES = "api, segment, hubspot, salesforce"


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def ids_of(contact: Contact) -> dict[str, str]:
    return dict(ContactExternalId.objects.filter(contact=contact).values_list("source", "value"))


def an_event(key: str, contact: dict, **extra) -> dict:
    return {
        "type": "pricing_view",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "idempotency_key": key,
        "contact": contact,
        **extra,
    }


def a_contact(**fields) -> Contact:
    """A contact with its api id row, as the services keep it."""
    contact = ContactFactory(**fields)
    external_id_api_sync(contact)
    return contact


def hubspot_contact(value="hs-1", **fields) -> Contact:
    contact = a_contact(**fields)
    external_id_set(contact=contact, source="hubspot", value=value)
    return contact


# --- the events API -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("hubspt", f'"hubspt" is not a source; choose from {SOURCES}.'),
        ("HubSpot", f'"HubSpot" is not a source; choose from {SOURCES}.'),
        ("", f'"" is not a source; choose from {SOURCES}.'),
        (7, f"This is not a source; choose from {SOURCES}."),
        (["hubspot"], f"This is not a source; choose from {SOURCES}."),
    ],
)
def test_an_unknown_source_is_a_field_error_listing_the_sources(api, source, message):
    hubspot_contact("123")
    event = an_event("k1", {"external_id": "123", "source": source}, create_contact=True)

    response = api.post(EVENTS_URL, event, format="json")

    assert (response.status_code, response.json()) == (400, {"contact.source": [message]})
    assert (Event.objects.count(), Contact.objects.count()) == (0, 1)


def test_a_source_without_an_external_id_is_refused(api):
    hubspot_contact("123", email="ada@example.com")
    event = an_event("k1", {"email": "ada@example.com", "source": "hubspot"})

    response = api.post(EVENTS_URL, event, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "contact.source": ["source says whose external_id it is: give external_id too."]
    }
    assert not Event.objects.exists()


def test_an_event_names_its_contact_by_a_hubspot_id(api):
    crm = a_contact(external_id="123")  # the same value in the api source: another key
    hubspot = hubspot_contact("123")

    response = api.post(
        EVENTS_URL, an_event("k1", {"external_id": "123", "source": "hubspot"}), format="json"
    )

    assert response.status_code == 201, response.content
    assert Event.objects.get().contact_id == hubspot.pk
    assert not Event.objects.filter(contact=crm).exists()


def test_no_source_and_source_api_are_the_old_shape(api):
    crm = a_contact(external_id="123")
    hubspot_contact("123")
    body = {
        "events": [
            an_event("k1", {"external_id": "123"}),
            an_event("k2", {"external_id": "123", "source": "api"}),
            an_event("k3", {"external_id": "123", "source": None}),
        ]
    }

    response = api.post(EVENTS_URL, body, format="json")

    assert response.json()["created"] == 3, response.content
    assert set(Event.objects.values_list("contact_id", flat=True)) == {crm.pk}


def test_an_unknown_hubspot_id_without_create_contact_is_refused_naming_the_source(api):
    response = api.post(
        EVENTS_URL, an_event("k1", {"external_id": "9", "source": "hubspot"}), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "contact": [
            "No contact matches external_id '9' (source 'hubspot')."
            " Send create_contact: true to create one."
        ]
    }
    assert (Event.objects.count(), Contact.objects.count()) == (0, 0)


def test_a_contact_created_by_an_event_keeps_the_id_under_its_source(api):
    a_contact(external_id="77")  # the api id "77" is someone else
    body = {
        "create_contact": True,
        "events": [
            an_event("k1", {"external_id": "77", "source": "salesforce", "first_name": "Ada"}),
            an_event("k2", {"external_id": "77", "source": "salesforce"}),
        ],
    }

    response = api.post(EVENTS_URL, body, format="json")

    assert response.json()["created"] == 2, response.content
    made = Contact.objects.get(first_name="Ada")
    assert (made.external_id, ids_of(made)) == (None, {"salesforce": "77"})
    assert set(Event.objects.values_list("contact_id", flat=True)) == {made.pk}
    # sent again: the same contact, nothing new
    again = api.post(EVENTS_URL, body, format="json")
    assert again.json()["duplicates"] == 2
    assert Contact.objects.count() == 2


def test_a_source_id_and_an_email_naming_two_contacts_are_refused_naming_both(api):
    hubspot = hubspot_contact("hs-9")
    other = a_contact(email="grace@example.com")
    contact = {"external_id": "hs-9", "source": "hubspot", "email": "grace@example.com"}

    response = api.post(EVENTS_URL, an_event("k1", contact), format="json")

    assert response.status_code == 400
    (reason,) = response.json()["contact"]
    assert f"contact #{hubspot.pk}" in reason and f"contact #{other.pk}" in reason
    assert "hubspot id 'hs-9'" in reason
    assert not Event.objects.exists()


def test_an_email_naming_a_contact_with_another_hubspot_id_is_a_conflict(api):
    ada = hubspot_contact("hs-1", email="ada@example.com")
    contact = {"external_id": "hs-2", "source": "hubspot", "email": "ada@example.com"}

    response = api.post(EVENTS_URL, an_event("k1", contact, create_contact=True), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "contact": [
            f"Email 'ada@example.com' matches contact #{ada.pk}, whose hubspot id is 'hs-1',"
            " not 'hs-2'. They are not merged."
        ]
    }
    assert (Event.objects.count(), Contact.objects.count(), ids_of(ada)) == (
        0,
        1,
        {"hubspot": "hs-1"},
    )


# --- identity with ids from several sources at once ----------------------------------------


def test_keys_with_ids_from_two_sources_find_the_contact_holding_both():
    ada = a_contact(external_id="crm-1")
    external_id_set(contact=ada, source="hubspot", value="hs-1")

    found = identity_resolve(contact_keys(external_id="crm-1", other_ids={"hubspot": "hs-1"}))

    assert (found.contact_id, found.conflict) == (ada.pk, None)


def test_ids_from_two_sources_naming_two_contacts_are_a_conflict_naming_both():
    ada = a_contact(external_id="crm-1")
    grace = hubspot_contact("hs-2")

    found = identity_resolve(contact_keys(external_id="crm-1", other_ids={"hubspot": "hs-2"}))

    assert found.known is None
    assert found.conflict.contact_ids == (ada.pk, grace.pk)
    assert found.conflict.reason == (
        f"These keys name different contacts: external id 'crm-1' matches contact #{ada.pk},"
        f" hubspot id 'hs-2' matches contact #{grace.pk}. They are not merged."
    )


def test_a_second_source_id_differing_from_the_contacts_own_is_a_conflict():
    ada = hubspot_contact("hs-1", external_id="crm-1")

    found = identity_resolve(contact_keys(external_id="crm-1", other_ids={"hubspot": "hs-9"}))

    assert found.conflict.reason == (
        f"External id 'crm-1' matches contact #{ada.pk}, whose hubspot id is 'hs-1',"
        " not 'hs-9'. They are not merged."
    )


# --- the REST contacts API -----------------------------------------------------------------


def test_a_contact_shows_its_id_in_every_source(api, django_assert_max_num_queries):
    ada = hubspot_contact("hs-1", external_id="crm-1")
    external_id_set(contact=ada, source="segment", value="user-1")
    ContactFactory.create_batch(3)

    one = api.get(f"{CONTACTS_URL}{ada.pk}/").json()
    listed = api.get(CONTACTS_URL).json()["results"]

    expected = {"api": "crm-1", "hubspot": "hs-1", "segment": "user-1"}
    assert one["external_ids"] == expected
    assert [row["external_ids"] for row in listed if row["id"] == ada.pk] == [expected]
    assert {len(row["external_ids"]) for row in listed if row["id"] != ada.pk} == {0}


def test_the_list_costs_the_same_queries_for_one_or_many_contacts(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hubspot_contact("hs-0")
    with CaptureQueriesContext(connection) as few:
        api.get(CONTACTS_URL)
    for n in range(1, 8):
        hubspot_contact(f"hs-{n}")
    with CaptureQueriesContext(connection) as many:
        api.get(CONTACTS_URL)

    assert len(many) == len(few)


def test_patch_sets_replaces_and_clears_ids_per_source(api):
    ada = hubspot_contact("hs-1", external_id="crm-1")
    external_id_set(contact=ada, source="segment", value="user-1")

    response = api.patch(
        f"{CONTACTS_URL}{ada.pk}/",
        {"external_ids": {"hubspot": "hs-2", "salesforce": "003A", "segment": None}},
        format="json",
    )

    assert response.status_code == 200, response.content
    expected = {"api": "crm-1", "hubspot": "hs-2", "salesforce": "003A"}
    assert response.json()["external_ids"] == expected
    assert ids_of(ada) == expected


def test_patch_of_the_api_id_through_external_ids_is_the_external_id(api):
    ada = a_contact(external_id="crm-1")

    response = api.patch(
        f"{CONTACTS_URL}{ada.pk}/", {"external_ids": {"api": "crm-2"}}, format="json"
    )

    assert response.status_code == 200, response.content
    ada.refresh_from_db()
    assert (ada.external_id, ids_of(ada), response.json()["external_id"]) == (
        "crm-2",
        {"api": "crm-2"},
        "crm-2",
    )


def test_an_id_naming_another_contact_is_refused_naming_it_and_nothing_changes(api):
    owner = hubspot_contact("hs-1")
    ada = a_contact(first_name="Ada", external_id="crm-1")

    response = api.patch(
        f"{CONTACTS_URL}{ada.pk}/",
        {"first_name": "Changed", "external_ids": {"hubspot": "hs-1", "salesforce": "003A"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "external_ids": {
            "hubspot": [
                f"hubspot id 'hs-1' already names contact #{owner.pk}, not contact #{ada.pk}."
                " They are not merged."
            ]
        }
    }
    ada.refresh_from_db()
    assert (ada.first_name, ids_of(ada), ids_of(owner)) == (
        "Ada",
        {"api": "crm-1"},
        {"hubspot": "hs-1"},
    )


@pytest.mark.parametrize(
    ("ids", "errors"),
    [
        ({"hubspt": "1"}, {"hubspt": [f"'hubspt' is not a source; choose from {SOURCES}."]}),
        ({"hubspot": ""}, {"hubspot": ["Give an id of 1–100 characters, or null to clear it."]}),
        ({"hubspot": " "}, {"hubspot": ["Give an id of 1–100 characters, or null to clear it."]}),
        ({"hubspot": 12}, {"hubspot": ["Give an id of 1–100 characters, or null to clear it."]}),
        (
            {"hubspot": "x" * 101},
            {"hubspot": ["Give an id of 1–100 characters, or null to clear it."]},
        ),
        (["hubspot"], ['Give an object, e.g. {"hubspot": "123"}.']),
        ({"api": "crm-9"}, {"api": ["Differs from external_id; give one of them."]}),
    ],
)
def test_bad_ids_are_field_errors(api, ids, errors):
    ada = a_contact(external_id="crm-1")

    response = api.patch(
        f"{CONTACTS_URL}{ada.pk}/",
        {"external_id": "crm-1", "external_ids": ids},
        format="json",
    )

    assert (response.status_code, response.json()) == (400, {"external_ids": errors})
    assert ids_of(ada) == {"api": "crm-1"}


def test_upsert_matches_by_a_source_id_alone_and_answers_200(api):
    ada = hubspot_contact("hs-1", first_name="Ada")

    response = api.post(
        CONTACTS_URL, {"external_ids": {"hubspot": "hs-1"}, "last_name": "Lovelace"}, format="json"
    )

    assert response.status_code == 200, response.content
    ada.refresh_from_db()
    assert (ada.last_name, Contact.objects.count()) == ("Lovelace", 1)


def test_upsert_creates_a_contact_with_ids_in_several_sources(api):
    response = api.post(
        CONTACTS_URL,
        {"email": "new@example.com", "external_ids": {"hubspot": "hs-5", "salesforce": "003B"}},
        format="json",
    )

    assert response.status_code == 201, response.content
    made = Contact.objects.get()
    assert ids_of(made) == {"hubspot": "hs-5", "salesforce": "003B"}
    assert response.json()["external_ids"] == {"hubspot": "hs-5", "salesforce": "003B"}


def test_upsert_whose_email_and_source_id_name_two_contacts_is_refused_naming_both(api):
    ada = a_contact(email="ada@example.com")
    grace = hubspot_contact("hs-2")

    response = api.post(
        CONTACTS_URL,
        {"email": "ada@example.com", "external_ids": {"hubspot": "hs-2"}, "first_name": "X"},
        format="json",
    )

    assert response.status_code == 400
    (reason,) = response.json()["non_field_errors"]
    assert f"contact #{ada.pk}" in reason and f"contact #{grace.pk}" in reason
    assert not Contact.objects.filter(first_name="X").exists()


def test_the_list_looks_a_contact_up_by_its_id_in_a_source(api):
    crm = a_contact(external_id="123")
    hubspot = hubspot_contact("123")
    a_contact()

    by_hubspot = api.get(CONTACTS_URL, {"external_id": "123", "source": "hubspot"})
    by_api = api.get(CONTACTS_URL, {"external_id": "123"})
    by_api_named = api.get(CONTACTS_URL, {"external_id": "123", "source": "api"})
    nobody = api.get(CONTACTS_URL, {"external_id": "999", "source": "hubspot"})

    assert [row["id"] for row in by_hubspot.json()["results"]] == [hubspot.pk]
    assert [row["id"] for row in by_api.json()["results"]] == [crm.pk]
    assert [row["id"] for row in by_api_named.json()["results"]] == [crm.pk]
    assert nobody.json()["results"] == []


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"external_id": "1", "source": "hubspt"},
            {"source": [f'"hubspt" is not one of: {SOURCES}.']},
        ),
        (
            {"source": "hubspot"},
            {"source": ["source says whose external_id to look up: give external_id too."]},
        ),
    ],
)
def test_a_bad_source_look_up_is_a_field_error(api, params, errors):
    response = api.get(CONTACTS_URL, params)

    assert (response.status_code, response.json()) == (400, errors)


def test_the_schema_documents_external_ids_and_the_source_look_up(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    contact = schema["components"]["schemas"]["Contact"]["properties"]["external_ids"]
    write = schema["components"]["schemas"]["PatchedContactWriteRequest"]["properties"][
        "external_ids"
    ]
    assert set(contact["properties"]) == set(write["properties"]) == set(SOURCES.split(", "))
    assert write["additionalProperties"] is False
    parameters = {p["name"]: p for p in schema["paths"][CONTACTS_URL]["get"]["parameters"]}
    assert set(parameters["source"]["schema"]["enum"]) == set(SOURCES.split(", "))
    assert {"external_id", "attr.<key>"} <= set(parameters)
    event_contact = schema["components"]["schemas"]["EventContactRequest"]["properties"]["source"]
    assert "hubspot" in str(event_contact)
