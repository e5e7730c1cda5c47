"""POST /api/v1/templates/preview/: an SMS body's size as typed and at its longest."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import roles

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/preview/"


@pytest.fixture
def api(marketer):
    client = APIClient()
    client.force_authenticate(marketer)
    return client


def test_it_has_a_stable_address():
    assert reverse("api:template-preview") == URL


def test_it_sizes_a_body_as_typed_and_at_its_longest(settings, api):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    body = "It’s {{ contact.first_name }}’s turn: {link:book}"

    response = api.post(
        URL,
        {"body": body, "links": {"book": {"url": "https://example.com/b", "key": True}}},
        format="json",
    )

    assert response.status_code == 200
    worst = f"It’s {'x' * 24}’s turn: https://cue.example.com/l/{'x' * 22}"
    assert response.json() == {
        "encoding": "UCS-2",
        "segments": 1,
        "characters": len(body),
        "units_used": len(body),
        "units_per_segment": 70,
        "units_remaining": 70 - len(body),
        "non_gsm_characters": ["’"],
        "replacements": {"’": "'"},
        "replacement_helps": True,
        "worst_case": {
            "encoding": "UCS-2",
            "segments": 2,
            "characters": len(worst),
            "units_used": len(worst),
            "units_remaining": 67 * 2 - len(worst),
            "tracked_link_length": 48,
        },
        "errors": [],
        "lint": None,
    }


def test_it_reports_placeholder_errors_without_refusing_the_preview(api):
    response = api.post(URL, {"body": "Hi {{ contact.nickname }} {link:book}"}, format="json")

    assert response.status_code == 200
    assert response.json()["errors"] == [
        'Unknown placeholder "{{ contact.nickname }}". Known placeholders: contact.first_name, '
        "contact.last_name, contact.company, company.name, owner.first_name, owner.phone, "
        "contact.attr.<key>.",
        'Link "{link:book}" is not declared: add "book" to the links.',
    ]


def test_it_offers_no_replacement_that_would_cost_a_segment(api):
    response = api.post(URL, {"body": "…" * 70}, format="json")

    assert (response.json()["segments"], response.json()["replacement_helps"]) == (1, False)


def test_it_sizes_an_empty_body(api):
    response = api.post(URL, {"body": ""}, format="json")

    assert response.status_code == 200
    assert (response.json()["segments"], response.json()["units_remaining"]) == (1, 160)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"body": ["This field is required."]}),
        ({"body": 42}, {"body": ["Must be a string."]}),
        ({"body": ["Hi"]}, {"body": ["Must be a string."]}),
        ({"body": None}, {"body": ["This field may not be null."]}),
        ({"body": "a" * 5001}, {"body": ["Ensure this field has no more than 5000 characters."]}),
        (
            {"body": "Hi", "links": ["book"]},
            {"links": ['Expected a dictionary of items but got type "list".']},
        ),
        ({"body": "Hi", "category": "promo"}, {"category": ['"promo" is not a valid choice.']}),
        ({"body": "Hi", "category": None}, {"category": ["This field may not be null."]}),
        ({"body": "Hi", "channel": "fax"}, {"channel": ['"fax" is not a valid choice.']}),
        ({"body": "Hi", "subject": 7}, {"subject": ["Must be a string."]}),
        (
            {"body": "Hi", "subject": "s" * 201},
            {"subject": ["Ensure this field has no more than 200 characters."]},
        ),
    ],
)
def test_it_answers_bad_input_with_field_errors(api, payload, errors):
    response = api.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors


def test_it_accepts_exactly_5000_characters(api):
    assert api.post(URL, {"body": "a" * 5000}, format="json").status_code == 200


def test_it_refuses_anonymous_callers():
    response = APIClient().post(URL, {"body": "Hi"}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_refuses_roles_that_cannot_see_templates(make_user, role):
    client = APIClient()
    client.force_authenticate(make_user(role))

    assert client.post(URL, {"body": "Hi"}, format="json").status_code == 403


@pytest.mark.parametrize("role", [roles.MARKETER, roles.APPROVER, roles.COMPLIANCE, roles.ADMIN])
def test_it_answers_every_role_that_can_see_templates(make_user, role):
    client = APIClient()
    client.force_authenticate(make_user(role))

    assert client.post(URL, {"body": "Hi"}, format="json").status_code == 200


def test_it_accepts_a_token(marketer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")

    assert client.post(URL, {"body": "Hi"}, format="json").status_code == 200


def test_it_counts_a_euro_as_one_character_and_two_units(api):
    response = api.post(URL, {"body": "Only 5€ {today}"}, format="json")

    size = response.json()
    assert (size["encoding"], size["characters"], size["units_used"]) == ("GSM-7", 15, 18)
    assert size["units_remaining"] == 160 - 18
    assert (size["worst_case"]["characters"], size["worst_case"]["units_used"]) == (15, 18)
