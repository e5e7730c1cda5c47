"""/api/v1/opportunities/: upsert by external_id; each stage change is recorded exactly once."""

import pytest
from django.urls import reverse
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.contacts.models import Event, Opportunity, OpportunityStageChange
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/opportunities/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def ada():
    return ContactFactory(email="ada@example.com")


def a_deal(for_contact, **overrides) -> dict:
    return {
        "external_id": "opp-1",
        "name": "Navy rollout",
        "stage": "discovery",
        "amount": "1200.50",
        "currency": "USD",
        "contact": for_contact.pk,
        **overrides,
    }


def stage_changes() -> list[tuple]:
    return list(OpportunityStageChange.objects.values_list("from_stage", "to_stage"))


def stage_events() -> list[dict]:
    return [
        {key: event.properties[key] for key in ("from", "to")}
        for event in Event.objects.filter(type="stage_changed").order_by("pk")
    ]


def test_it_is_reachable_by_its_stable_name():
    assert reverse("api:opportunities") == URL


def test_it_creates_an_opportunity_and_answers_201(api, ada):
    response = api.post(URL, a_deal(ada), format="json")

    deal = Opportunity.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": deal.pk,
        "external_id": "opp-1",
        "name": "Navy rollout",
        "pipeline": "sales",
        "stage": "discovery",
        "stage_changed_at": DateTimeField().to_representation(deal.stage_changed_at),
        "amount": "1200.50",
        "currency": "USD",
        "contact": ada.pk,
        "company": None,
        "opened_at": response.json()["opened_at"],
        "closed_at": None,
        "attributes": {},
    }
    assert stage_changes() == [("", "discovery")]
    assert list(Event.objects.values_list("type", flat=True).order_by("pk")) == [
        "opportunity_created",
        "stage_changed",
    ]


def test_it_records_a_stage_change_exactly_once(api, ada):
    api.post(URL, a_deal(ada), format="json")
    events_before = Event.objects.count()

    response = api.post(URL, a_deal(ada, stage="demo"), format="json")

    assert (response.status_code, response.json()["stage"]) == (200, "demo")
    assert stage_changes() == [("", "discovery"), ("discovery", "demo")]
    assert stage_events() == [{"from": "", "to": "discovery"}, {"from": "discovery", "to": "demo"}]
    assert Event.objects.count() == events_before + 1
    assert Opportunity.objects.count() == 1


def test_it_records_nothing_when_the_stage_stays(api, ada):
    api.post(URL, a_deal(ada), format="json")

    response = api.post(URL, a_deal(ada, amount="5000.00"), format="json")

    assert (response.status_code, response.json()["amount"]) == (200, "5000.00")
    assert stage_changes() == [("", "discovery")]
    assert stage_events() == [{"from": "", "to": "discovery"}]


def test_it_closes_a_won_deal(api, ada):
    api.post(URL, a_deal(ada), format="json")

    response = api.post(URL, a_deal(ada, stage="closed_won"), format="json")

    assert response.json()["closed_at"] is not None  # the service stamps the moment
    assert stage_changes() == [("", "discovery"), ("discovery", "closed_won")]


def test_it_detaches_the_contact_only_when_told_to(api, ada):
    api.post(URL, a_deal(ada), format="json")
    missing = api.post(URL, {k: v for k, v in a_deal(ada).items() if k != "contact"}, format="json")

    detached = api.post(URL, a_deal(ada, contact=None), format="json")

    assert (missing.status_code, missing.json()) == (400, {"contact": ["This field is required."]})
    assert (detached.status_code, detached.json()["contact"]) == (200, None)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"stage": "won"},
            {
                "stage": [
                    '"won" is not one of: discovery, demo, proposal, negotiation, closed_won, '
                    "closed_lost."
                ]
            },
        ),
        ({"currency": "usd"}, {"currency": ["Use a three-letter ISO 4217 code, e.g. USD."]}),
        ({"amount": "-1"}, {"amount": ["Ensure this value is greater than or equal to 0."]}),
        (
            {"amount": "1e400"},
            {"amount": ["Ensure that there are no more than 14 digits in total."]},
        ),
        ({"amount": "NaN"}, {"amount": ["A valid number is required."]}),
        ({"contact": 987654}, {"contact": ['Invalid pk "987654" - object does not exist.']}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
    ],
)
def test_it_names_what_is_wrong_and_stores_nothing(api, ada, overrides, errors):
    response = api.post(URL, a_deal(ada, **overrides), format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert (Opportunity.objects.count(), OpportunityStageChange.objects.count()) == (0, 0)
    assert Event.objects.count() == 0


def test_it_lists_opportunities_filtered_by_stage_and_contact(api, ada):
    bob = ContactFactory()
    api.post(URL, a_deal(ada), format="json")
    api.post(URL, a_deal(ada, external_id="opp-2", stage="demo"), format="json")
    api.post(URL, a_deal(bob, external_id="opp-3", stage="demo"), format="json")

    demos = api.get(URL, {"stage": "demo"}).json()["results"]
    adas = api.get(URL, {"contact": ada.pk}).json()["results"]
    wrong = api.get(URL, {"stage": "won"})

    assert [deal["external_id"] for deal in demos] == ["opp-3", "opp-2"]
    assert [deal["external_id"] for deal in adas] == ["opp-2", "opp-1"]
    assert wrong.status_code == 400


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        (roles.MARKETER, 200, 403),
        (roles.APPROVER, 200, 403),
        (roles.COMPLIANCE, 200, 403),
        (roles.SALES_REP, 403, 403),
        (roles.SALES_MANAGER, 403, 403),
    ],
)
def test_it_lets_roles_read_and_write_as_the_role_table_says(make_user, ada, role, reads, writes):
    client = client_for(make_user(role))

    read = client.get(URL)
    write = client.post(URL, a_deal(ada), format="json")

    assert (read.status_code, write.status_code) == (reads, writes)
    assert Opportunity.objects.count() == 0


def test_it_refuses_anonymous_callers(ada):
    response = APIClient().post(URL, a_deal(ada), format="json")

    assert response.status_code == 401
    assert Opportunity.objects.count() == 0
