"""Least privilege, made explicit: a sales manager's API reads cover the contacts of the
teams they manage (the device evidence of consent: tests/consent/test_evidence_visibility.py)."""

import pytest
from rest_framework.test import APIClient

from apps.accounts import roles
from tests.factories import ContactFactory, TeamFactory

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def teams(make_user):
    manager = make_user(roles.SALES_MANAGER, username="morgan")
    east, west = TeamFactory(name="East", manager=manager), TeamFactory(name="West")
    rita = make_user(roles.SALES_REP, username="rita", team=east)
    wes = make_user(roles.SALES_REP, username="wes", team=west)
    return {
        "manager": manager,
        "east": ContactFactory(owner=rita, email="east@example.com"),
        "west": ContactFactory(owner=wes, email="west@example.com"),
        "nobody": ContactFactory(email="nobody@example.com"),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_manager_lists_only_the_contacts_of_the_teams_they_manage(teams):
    api = api_as(teams["manager"])
    assert ids(api.get("/api/v1/contacts/")) == {teams["east"].pk}
    assert api.get(f"/api/v1/contacts/{teams['east'].pk}/").status_code == 200
    for other in ("west", "nobody"):
        assert api.get(f"/api/v1/contacts/{teams[other].pk}/").status_code == 404
        found = api.post(
            "/api/v1/contacts/search/", {"email": f"{other}@example.com"}, format="json"
        )
        assert ids(found) == set()


def test_a_manager_of_no_team_sees_no_contact(make_user, teams):
    idle = make_user(roles.SALES_MANAGER, username="idle")
    assert ids(api_as(idle).get("/api/v1/contacts/")) == set()


def test_staff_still_see_every_contact(make_user, teams):
    marketer = make_user(roles.MARKETER, username="mark")
    expected = {teams[name].pk for name in ("east", "west", "nobody")}
    assert ids(api_as(marketer).get("/api/v1/contacts/")) == expected
