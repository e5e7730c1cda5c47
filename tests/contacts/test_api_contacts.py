"""/api/v1/contacts/: upsert by external_id, email or phone; filtered lists; reps see their own."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.contacts.api import views
from apps.contacts.models import Company, Contact
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def ada():
    return ContactFactory(
        first_name="Ada", email="ada@example.com", phone="+16175550100", external_id="crm-ada"
    )


def test_it_is_reachable_by_its_stable_names(ada):
    assert (reverse("api:contacts"), reverse("api:contact", args=[ada.pk])) == (
        URL,
        f"{URL}{ada.pk}/",
    )


def test_it_creates_a_contact_and_answers_201(api, make_user):
    owner = make_user(roles.SALES_REP, username="rita")
    body = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": " Grace@Example.com ",
        "phone": "(617) 555-0199",
        "external_id": "crm-grace",
        "time_zone": "America/New_York",
        "region": "NY",
        "country": "us",
        "company_name": "Navy",
        "owner": "rita",
        "kind": "customer",
        "lifecycle_stage": "sql",
        "buying_role": "champion",
        "source": "crm",
    }

    response = api.post(URL, body, format="json")

    grace = Contact.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": grace.pk,
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "Grace@Example.com",
        "phone": "+16175550199",
        "external_id": "crm-grace",
        "time_zone": "America/New_York",
        "region": "NY",
        "country": "US",
        "company": grace.company_id,
        "company_name": "Navy",
        "owner": owner.pk,
        "owner_username": "rita",
        "kind": "customer",
        "lifecycle_stage": "sql",
        "lifecycle_stage_changed_at": DateTimeField().to_representation(
            grace.lifecycle_stage_changed_at
        ),
        "buying_role": "champion",
        "intent_score": 0.0,
        "intent_band": "low",
        "source": "crm",
        "attributes": {},
        "external_ids": {"api": "crm-grace"},
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }
    assert list(Company.objects.values_list("name", flat=True)) == ["Navy"]


@pytest.mark.parametrize(
    "key",
    [
        {"external_id": "crm-ada"},
        {"email": "ADA@example.com"},
        {"phone": "617-555-0100"},
    ],
)
def test_it_updates_the_contact_each_key_names_and_answers_200(api, ada, key):
    response = api.post(URL, {**key, "lifecycle_stage": "mql"}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == ada.pk
    ada.refresh_from_db()
    assert (Contact.objects.count(), ada.lifecycle_stage, ada.first_name) == (1, "mql", "Ada")


def test_it_reuses_a_company_of_the_same_name(api):
    navy = CompanyFactory(name="Navy")

    api.post(URL, {"email": "g@example.com", "company_name": "NAVY"}, format="json")

    assert Contact.objects.get().company == navy
    assert Company.objects.count() == 1


def test_it_needs_a_key_to_upsert_by(api):
    response = api.post(URL, {"first_name": "Nobody"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "Give an external_id (or an id in external_ids), email or phone to match the contact."
        ]
    }
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"email": "x@example.com", "lifecycle_stage": "hot"},
            {
                "lifecycle_stage": [
                    '"hot" is not one of: subscriber, lead, mql, sql, opportunity, customer, '
                    "churned."
                ]
            },
        ),
        (
            {"email": "x@example.com", "kind": "partner"},
            {"kind": ['"partner" is not one of: prospect, customer.']},
        ),
        (
            {"email": "x@example.com", "buying_role": "boss"},
            {
                "buying_role": [
                    '"boss" is not one of: decision_maker, champion, influencer, evaluator, user.'
                ]
            },
        ),
        ({"phone": "555"}, {"phone": ["Enter a valid phone number, e.g. +14155550123."]}),
        (
            {"phone": "+1 415 000 0000"},
            {"phone": ["Enter a valid phone number, e.g. +14155550123."]},
        ),
        (
            {"email": "x@example.com", "time_zone": "Mars/Olympus"},
            {"time_zone": ["'Mars/Olympus' is not an IANA time zone, e.g. America/Chicago."]},
        ),
        (
            {"email": "x@example.com", "owner": "nobody"},
            {"owner": ['No active user has the id or username "nobody".']},
        ),
        (
            {"email": "x@example.com", "owner": 99999999999999999999999},
            {"owner": ['No active user has the id or username "99999999999999999999999".']},
        ),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        (
            {"email": "x@example.com", "company": None, "company_name": "Navy"},
            {"company_name": ["Give company or company_name."]},
        ),
    ],
)
def test_it_names_what_is_wrong_and_stores_nothing(api, body, errors):
    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert (Contact.objects.count(), Company.objects.count()) == (0, 0)


def test_it_refuses_a_change_that_takes_another_contacts_email(api, ada):
    bob = ContactFactory(email="bob@example.com")

    response = api.patch(f"{URL}{bob.pk}/", {"email": "ADA@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Another contact already has this email address."]}
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"


@pytest.mark.parametrize("body", [None, [], "x", 1, {"email": ["x"]}, {"owner": {"id": 1}}])
def test_it_answers_junk_with_400(api, body):
    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    assert Contact.objects.count() == 0


def test_it_changes_a_contact_and_can_clear_its_owner(api, ada, make_user):
    ada.owner = make_user(roles.SALES_REP)
    ada.save()

    response = api.patch(f"{URL}{ada.pk}/", {"owner": None, "last_name": "Lovelace"}, format="json")

    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["last_name"]) == (None, "Lovelace")
    ada.refresh_from_db()
    assert (ada.owner, ada.last_name, ada.email) == (None, "Lovelace", "ada@example.com")


def test_it_refuses_put_and_delete(api, ada):
    assert api.put(f"{URL}{ada.pk}/", {"email": "x@example.com"}, format="json").status_code == 405
    assert api.delete(f"{URL}{ada.pk}/").status_code == 405
    assert Contact.objects.filter(pk=ada.pk, email="ada@example.com").exists()


def test_it_lists_contacts_newest_first_a_page_at_a_time(api, monkeypatch):
    contacts = ContactFactory.create_batch(3)
    monkeypatch.setattr(views.IdCursorPagination, "page_size", 2)

    first = api.get(URL).json()
    second = api.get(first["next"]).json()

    assert [c["id"] for c in first["results"]] == [contacts[2].pk, contacts[1].pk]
    assert [c["id"] for c in second["results"]] == [contacts[0].pk]
    assert (first["previous"], second["next"]) == (None, None)


@pytest.fixture
def crowd(make_user):
    rita = make_user(roles.SALES_REP, username="rita")
    return {
        "rita": rita,
        "lead": ContactFactory(lifecycle_stage="lead", owner=rita),
        "mql": ContactFactory(
            lifecycle_stage="mql", kind="customer", buying_role="champion", intent_band="high"
        ),
        "ada": ContactFactory(email="Ada@Example.com", phone="+16175550100", external_id="x-1"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lifecycle_stage=mql", ["mql"]),
        ("kind=customer", ["mql"]),
        ("intent_band=high", ["mql"]),
        ("buying_role=champion", ["mql"]),
        ("owner=rita", ["lead"]),
        ("external_id=x-1", ["ada"]),
        ("lifecycle_stage=lead&owner=rita", ["lead"]),
    ],
)
def test_it_filters_the_list(api, crowd, query, expected):
    response = api.get(f"{URL}?{query}")

    assert [c["id"] for c in response.json()["results"]] == [crowd[name].pk for name in expected]


def test_it_filters_by_owner_id(api, crowd):
    response = api.get(URL, {"owner": crowd["rita"].pk})

    assert [c["id"] for c in response.json()["results"]] == [crowd["lead"].pk]


def test_it_lists_contacts_updated_since_a_moment(api, crowd):
    Contact.objects.filter(pk=crowd["ada"].pk).update(updated_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()

    response = api.get(URL, {"updated_since": since})

    assert {c["id"] for c in response.json()["results"]} == {crowd["lead"].pk, crowd["mql"].pk}


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "kind=partner",
            {"kind": ['"partner" is not one of: prospect, customer.']},
        ),
        ("updated_since=yesterday", {"updated_since": ["Enter a valid date/time."]}),
        (
            "updated_since=0001-01-01T00:00:00%2B01:00",
            {"updated_since": ["This moment is out of range."]},
        ),
    ],
)
def test_it_names_what_is_wrong_with_a_filter(api, crowd, query, errors):
    response = api.get(f"{URL}?{query}")

    assert response.status_code == 400
    assert response.json() == errors


def test_it_shows_a_sales_rep_only_the_contacts_they_own(crowd):
    rep = client_for(crowd["rita"])

    listed = rep.get(URL)
    own = rep.get(f"{URL}{crowd['lead'].pk}/")
    others = rep.get(f"{URL}{crowd['ada'].pk}/")

    assert [c["id"] for c in listed.json()["results"]] == [crowd["lead"].pk]
    assert (own.status_code, own.json()["id"]) == (200, crowd["lead"].pk)
    assert others.status_code == 404


# A sales manager sees their teams' contacts only: tests/core/test_least_privilege.py.
@pytest.mark.parametrize("role", [roles.MARKETER, roles.APPROVER, roles.COMPLIANCE])
def test_it_shows_every_contact_to_the_other_roles_that_may_read_them(make_user, crowd, role):
    response = client_for(make_user(role)).get(URL)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize(
    "role", [roles.MARKETER, roles.APPROVER, roles.COMPLIANCE, roles.SALES_REP, roles.SALES_MANAGER]
)
def test_it_lets_only_admins_write_contacts(make_user, ada, role):
    client = client_for(make_user(role))

    created = client.post(URL, {"email": "new@example.com"}, format="json")
    changed = client.patch(f"{URL}{ada.pk}/", {"first_name": "Eve"}, format="json")

    assert (created.status_code, changed.status_code) == (403, 403)
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Ada"]


def test_it_refuses_anonymous_callers(ada):
    client = APIClient()

    assert client.get(URL).status_code == 401
    assert client.post(URL, {"email": "new@example.com"}, format="json").status_code == 401
    assert Contact.objects.count() == 1


def test_it_generates_an_openapi_schema_without_warnings(tmp_path):
    schema = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))

    text = schema.read_text()
    for operation in (
        "/api/v1/events/:",
        "/api/v1/contacts/:",
        "/api/v1/contacts/{id}/:",
        "/api/v1/contacts/{contact_id}/consent/:",
        "/api/v1/opportunities/:",
    ):
        assert operation in text
