"""Custom attributes: definitions, the one validation on write, and the contacts API."""

import logging

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from apps.contacts.attributes import AttributesError, attributes_merge, attributes_validate
from apps.contacts.models import AttributeDefinition, Contact, Opportunity
from apps.contacts.pii import pii_attribute_keys_refresh
from apps.contacts.services import company_upsert, contact_update, contact_upsert
from apps.core.logs import MaskingFormatter
from tests.factories import AttributeDefinitionFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


@pytest.fixture
def definitions():
    return [
        AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro"]),
        AttributeDefinitionFactory(key="seats", type="number"),
        AttributeDefinitionFactory(key="trial", type="boolean"),
        AttributeDefinitionFactory(key="renewal_on", type="date"),
        AttributeDefinitionFactory(key="last_login", type="datetime"),
        AttributeDefinitionFactory(key="nickname", type="text", pii=True),
        AttributeDefinitionFactory(key="channels", type="list"),
        AttributeDefinitionFactory(key="tier", type="text", object_type="company"),
    ]


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def validate(values, **kwargs):
    return attributes_validate(object_type="contact", values=values, partial=False, **kwargs)


def test_it_returns_each_value_in_its_stored_form(definitions):
    values = {
        "plan": "Pro",
        "seats": 12.0,
        "trial": False,
        "renewal_on": "2026-09-30",
        "last_login": "2026-03-08T01:30:00-05:00",
        "nickname": "  Ada\x00 ",
        "channels": ["sms", " email ", "sms", ""],
    }

    assert validate(values) == {
        "plan": "pro",
        "seats": 12,
        "trial": False,
        "renewal_on": "2026-09-30",
        "last_login": "2026-03-08T06:30:00+00:00",
        "nickname": "Ada",
        "channels": ["sms", "email"],
    }


def test_it_names_every_bad_key_with_its_reason(definitions):
    values = {
        "plan": "enterprise",
        "seats": "12",
        "trial": "yes",
        "renewal_on": "2026-02-30",
        "last_login": "2026-03-08T01:30:00",
        "channels": "sms",
        "tier": "gold",
        "nickname": "fine",
    }

    with pytest.raises(AttributesError) as raised:
        validate(values)

    assert raised.value.errors == {
        "plan": ["'enterprise' is not an option; choose from free, pro."],
        "seats": ["Give a number, e.g. 42 or 3.5."],
        "trial": ["Give true or false."],
        "renewal_on": ["Give a date as YYYY-MM-DD, e.g. 2026-03-31."],
        "last_login": ["Give the time with its offset, e.g. 2026-03-31T14:00:00-05:00."],
        "channels": ['Give a list of text, e.g. ["sms", "email"].'],
        "tier": [
            "'tier' is not a contact attribute; define it first (known: channels, "
            "last_login, nickname, plan, renewal_on, seats, trial)."
        ],
    }
    assert raised.value.as_field_errors() == {"attributes": raised.value.errors}


@pytest.mark.parametrize(
    "values",
    [
        {"seats": True},
        {"seats": float("nan")},
        {"seats": float("inf")},
        {"seats": 10**16},
        {"seats": 10**400},
        {"renewal_on": "20260930"},
        {"renewal_on": 20260930},
        {"last_login": "yesterday"},
        {"nickname": "x" * 1001},
        {"nickname": 5},
        {"plan": ["pro"]},
    ],
)
def test_it_refuses_values_that_only_look_right(definitions, values):
    with pytest.raises(AttributesError) as raised:
        validate(values)

    assert list(raised.value.errors) == list(values)


def test_it_reads_text_cells_as_their_type_when_told(definitions):
    cells = {"seats": " 1,200 ", "trial": "Yes", "channels": "sms; email", "plan": ""}

    clean = attributes_validate(object_type="contact", values=cells, partial=True, from_text=True)

    assert clean == {"seats": 1200, "trial": True, "channels": ["sms", "email"], "plan": None}


def test_a_non_object_is_refused_as_a_whole(definitions):
    with pytest.raises(AttributesError) as raised:
        validate(["plan", "pro"])

    assert raised.value.errors == {"non_field_errors": ['Give an object, e.g. {"plan": "pro"}.']}


def test_empty_text_or_an_empty_list_clears_like_a_null(definitions):
    values = {"nickname": " \x00 ", "channels": ["", " "], "plan": None}

    assert attributes_validate(object_type="contact", values=values, partial=True) == {
        "nickname": None,
        "channels": None,
        "plan": None,
    }
    assert validate(values) == {}


def test_a_partial_change_keeps_other_keys_and_null_clears_one():
    assert attributes_merge({"plan": "pro", "seats": 3}, {"seats": None, "trial": True}) == {
        "plan": "pro",
        "trial": True,
    }


def test_a_choice_definition_needs_distinct_options():
    with pytest.raises(ValidationError) as raised:
        AttributeDefinition(key="plan", label="Plan", type="choice", options=[]).full_clean()
    assert raised.value.message_dict == {"options": ["A choice needs a list of option names."]}

    with pytest.raises(ValidationError) as raised:
        AttributeDefinition(key="Plan!", label="P", type="text", options=["a"]).full_clean()
    assert set(raised.value.message_dict) == {"key", "options"}


def test_definitions_keep_their_history():
    definition = AttributeDefinitionFactory(key="plan", label="Plan")

    definition.label = "Billing plan"
    definition.save()

    assert [h.label for h in definition.history.all()] == ["Billing plan", "Plan"]


def test_the_contact_services_merge_a_change_into_the_stored_attributes(definitions):
    ada = ContactFactory(attributes={"plan": "free", "seats": 2})

    contact_update(contact=ada, fields={"attributes": {"plan": "pro", "seats": None}})
    upserted = contact_upsert(fields={"email": ada.email, "attributes": {"plan": "Pro"}})

    ada.refresh_from_db()
    assert ada.attributes == {"plan": "pro"}
    assert upserted.changed == []


def test_the_contact_services_store_nothing_when_a_value_is_bad(definitions):
    ada = ContactFactory(first_name="Ada", attributes={"plan": "free"})

    with pytest.raises(AttributesError):
        contact_update(contact=ada, fields={"first_name": "Grace", "attributes": {"seats": "x"}})

    ada.refresh_from_db()
    assert (ada.first_name, ada.attributes) == ("Ada", {"plan": "free"})


def test_the_api_writes_and_reads_attributes(api, definitions):
    body = {"email": "ada@example.com", "attributes": {"plan": "pro", "renewal_on": "2026-09-30"}}

    created = api.post(URL, body, format="json")
    ada = Contact.objects.get()
    changed = api.patch(
        f"{URL}{ada.pk}/", {"attributes": {"plan": None, "seats": 3}}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["attributes"] == {"plan": "pro", "renewal_on": "2026-09-30"}
    assert changed.status_code == 200
    assert changed.json()["attributes"] == {"renewal_on": "2026-09-30", "seats": 3}
    ada.refresh_from_db()
    assert ada.attributes == {"renewal_on": "2026-09-30", "seats": 3}


def test_the_api_answers_a_bad_value_with_its_key_and_stores_nothing(api, definitions):
    ada = ContactFactory(first_name="Ada", attributes={"plan": "free"})

    response = api.patch(
        f"{URL}{ada.pk}/",
        {"first_name": "Grace", "attributes": {"plan": "gold", "color": "red"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "attributes": {
            "plan": ["'gold' is not an option; choose from free, pro."],
            "color": [
                "'color' is not a contact attribute; define it first (known: channels, "
                "last_login, nickname, plan, renewal_on, seats, trial)."
            ],
        }
    }
    ada.refresh_from_db()
    assert (ada.first_name, ada.attributes) == ("Ada", {"plan": "free"})


@pytest.mark.parametrize("attributes", [None, "plan=pro", ["plan"]])
def test_the_api_answers_a_non_object_with_a_field_error(api, definitions, attributes):
    response = api.post(URL, {"email": "ada@example.com", "attributes": attributes}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["attributes"]
    assert Contact.objects.count() == 0


# --- PII ----------------------------------------------------------------------------------


def test_a_pii_attributes_refused_value_is_not_repeated_in_the_error(definitions):
    AttributeDefinitionFactory(key="tier_secret", type="choice", options=["a"], pii=True)
    AttributeDefinitionFactory(key="income", type="number", pii=True)

    with pytest.raises(AttributesError) as raised:
        attributes_validate(
            object_type="contact",
            values={"tier_secret": "Ada Lovelace", "income": " lots ", "plan": "gold"},
            partial=True,
            from_text=True,
        )

    assert raised.value.errors == {
        "tier_secret": ["This value is not an option; choose from a."],
        "income": ["This value is not a number."],
        "plan": ["'gold' is not an option; choose from free, pro."],
    }


def test_log_lines_mask_the_values_of_pii_attributes(definitions):
    pii_attribute_keys_refresh()
    formatter = MaskingFormatter("%(message)s")
    line = "saved %s and nickname=Ada, plan=pro"
    record = logging.LogRecord("cue", logging.INFO, __file__, 1, line, None, None)
    record.args = ({"nickname": "Ada L.", "plan": "pro", "seats": 3},)

    assert formatter.format(record) == (
        "saved {'nickname': •••, 'plan': 'pro', 'seats': 3} and nickname=•••, plan=pro"
    )
    assert (
        formatter.format(
            logging.LogRecord("cue", logging.INFO, __file__, 1, '{"nickname": "A \\" B"}', (), None)
        )
        == '{"nickname": •••}'
    )


def test_the_openapi_schema_documents_attributes_on_read_and_write():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    for component in ("Contact", "ContactUpsertRequest", "PatchedContactWriteRequest"):
        attributes = schemas[component]["properties"]["attributes"]
        assert attributes["type"] == "object"
        assert '{"attributes": {"<key>": ["message"]}}' in attributes["description"]


# --- opportunities and companies ------------------------------------------------------------


def test_the_opportunities_api_reads_writes_and_merges_attributes(api):
    AttributeDefinitionFactory(key="source_campaign", type="text", object_type="opportunity")
    AttributeDefinitionFactory(key="seats", type="number", object_type="opportunity")
    ada = ContactFactory()
    deal = {"external_id": "opp-1", "name": "Rollout", "stage": "discovery", "contact": ada.pk}

    created = api.post(
        "/api/v1/opportunities/", {**deal, "attributes": {"seats": 5}}, format="json"
    )
    changed = api.post(
        "/api/v1/opportunities/",
        {**deal, "attributes": {"source_campaign": "Spring"}},
        format="json",
    )
    refused = api.post(
        "/api/v1/opportunities/", {**deal, "attributes": {"plan": "pro"}}, format="json"
    )

    assert (created.status_code, created.json()["attributes"]) == (201, {"seats": 5})
    assert changed.json()["attributes"] == {"seats": 5, "source_campaign": "Spring"}
    assert refused.status_code == 400
    assert list(refused.json()["attributes"]) == ["plan"]
    assert Opportunity.objects.get().attributes == {"seats": 5, "source_campaign": "Spring"}


def test_a_company_is_written_with_its_own_attributes_only(definitions):
    acme = company_upsert(name="Acme", attributes={"tier": " gold "})

    with pytest.raises(AttributesError) as raised:
        company_upsert(name="Acme", attributes={"plan": "pro"})

    acme.refresh_from_db()
    assert acme.attributes == {"tier": "gold"}
    assert list(raised.value.errors) == ["plan"]
