"""/api/v1/segments/…: create, edit, count and sample segments with the admin's rules; and
the builder's catalogue in the admin, which offers only what the compiler takes."""

import pytest
from django.core.cache import cache
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.contacts.models import AttributeDefinition, Segment
from apps.contacts.segments import segment_contacts
from tests.factories import ContactFactory, EventFactory
from tests.threads import in_threads

pytestmark = pytest.mark.django_db

HIGH = {"all": [{"field": "intent_band", "op": "eq", "value": "high"}]}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="maria")


@pytest.fixture
def people():
    hot = ContactFactory(first_name="Hot", last_name="Lead", intent_band="high", intent_score=90)
    warm = ContactFactory(first_name="Warm", last_name="Lead", intent_band="high", intent_score=70)
    cold = ContactFactory(first_name="Cold", last_name="Lead", intent_band="low", intent_score=5)
    return {"hot": hot, "warm": warm, "cold": cold}


def test_it_has_stable_addresses():
    assert reverse("api:segments") == "/api/v1/segments/"
    assert reverse("api:segment-preview") == "/api/v1/segments/preview/"
    assert reverse("api:segment-count", args=[7]) == "/api/v1/segments/7/count/"
    assert reverse("api:segment-sample", args=[7]) == "/api/v1/segments/7/sample/"


def test_it_creates_a_segment_and_records_who(marketer):
    response = client_for(marketer).post(
        "/api/v1/segments/", {"name": "High intent", "rules": HIGH}, format="json"
    )

    assert response.status_code == 201
    segment = Segment.objects.get()
    assert (segment.name, segment.rules, segment.created_by) == ("High intent", HIGH, marketer)
    assert response.json()["created_by"] == "maria"
    assert segment.history.get().history_user == marketer


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        (
            {"all": [{"field": "plan_tier", "op": "eq", "value": "x"}]},
            ['all[0].field: "plan_tier" is not a field; choose from lifecycle_stage, '],
        ),
        (
            {"all": [{"field": "intent_score", "op": "eq", "value": 5}]},
            ['all[0].op: "eq" does not apply to intent_score; choose from gte, lte'],
        ),
        (
            {"all": [{"field": "created_at", "op": "within_days", "value": "2026-13-01"}]},
            ["all[0].value: within_days needs a whole number of days from 1 to 36500"],
        ),
    ],
    ids=["unknown field", "wrong operator for the type", "bad date"],
)
def test_it_refuses_bad_rules_naming_the_rule_and_field(marketer, rules, errors):
    response = client_for(marketer).post(
        "/api/v1/segments/", {"name": "Bad", "rules": rules}, format="json"
    )

    assert response.status_code == 400
    [error] = response.json()["rules"]
    assert error.startswith(errors[0])
    assert Segment.objects.count() == 0


def test_it_refuses_a_bad_attribute_date_naming_its_path(marketer):
    AttributeDefinition.objects.create(key="renewal_on", label="Renewal", type="date")
    rules = {"any": [{"attribute": "renewal_on", "op": "before", "value": "31/03/2026"}]}

    response = client_for(marketer).post(
        "/api/v1/segments/", {"name": "Renewals", "rules": rules}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "rules": ["any[0].value: Give a date as YYYY-MM-DD, e.g. 2026-03-31."]
    }


def test_it_answers_missing_and_odd_input_with_field_errors(marketer):
    api = client_for(marketer)
    assert api.post("/api/v1/segments/", {}, format="json").json() == {
        "name": ["This field is required."],
        "rules": ["This field is required."],
    }
    odd = api.post("/api/v1/segments/", {"name": "x" * 201, "rules": None}, format="json")
    assert odd.status_code == 400
    assert set(odd.json()) == {"name", "rules"}
    assert api.post("/api/v1/segments/", [1, 2], format="json").status_code == 400
    assert Segment.objects.count() == 0


def test_it_refuses_a_second_segment_with_the_same_name(marketer):
    Segment.objects.create(name="High intent", rules=HIGH)

    response = client_for(marketer).post(
        "/api/v1/segments/", {"name": "High intent", "rules": HIGH}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert Segment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers")
def test_six_requests_racing_for_one_name_make_one_segment(marketer):
    Token.objects.get_or_create(user=marketer)

    def create(i):
        response = client_for(marketer).post(
            "/api/v1/segments/", {"name": "Race", "rules": HIGH}, format="json"
        )
        return response.status_code, list(response.json())

    results = in_threads(6, create)

    assert (
        sorted(results)
        == [(201, ["id", "name", "description", "rules", "created_by", "created_at", "updated_at"])]
        + [(400, ["name"])] * 5
    )
    assert Segment.objects.filter(name="Race").count() == 1


def test_it_edits_a_segments_rules_and_refuses_a_loop(marketer):
    segment = Segment.objects.create(name="High intent", rules=HIGH)
    api = client_for(marketer)
    low = {"all": [{"field": "intent_band", "op": "eq", "value": "low"}]}

    edited = api.patch(f"/api/v1/segments/{segment.pk}/", {"rules": low}, format="json")
    assert edited.status_code == 200
    segment.refresh_from_db()
    assert (segment.name, segment.rules) == ("High intent", low)

    loop = api.patch(
        f"/api/v1/segments/{segment.pk}/",
        {"rules": {"all": [{"segment": segment.pk}]}},
        format="json",
    )
    assert loop.status_code == 400
    assert loop.json() == {
        "rules": [
            'all[0].segment: segments cannot include each other in a loop: "High intent" → '
            '"High intent"'
        ]
    }
    segment.refresh_from_db()
    assert segment.rules == low


@pytest.mark.parametrize("role", [roles.APPROVER, roles.COMPLIANCE])
def test_a_reviewer_reads_and_counts_but_cannot_write(role, make_user, people):
    segment = Segment.objects.create(name="High intent", rules=HIGH)
    api = client_for(make_user(role))

    assert api.get("/api/v1/segments/").status_code == 200
    assert api.get(f"/api/v1/segments/{segment.pk}/count/").json() == {"count": 2}
    assert (
        api.post("/api/v1/segments/", {"name": "Mine", "rules": HIGH}, format="json").status_code
        == 403
    )
    refused = api.patch(f"/api/v1/segments/{segment.pk}/", {"name": "Renamed"}, format="json")
    assert refused.status_code == 403
    segment.refresh_from_db()
    assert segment.name == "High intent"
    assert Segment.objects.count() == 1


def test_reps_and_visitors_get_nothing(make_user):
    segment = Segment.objects.create(name="High intent", rules=HIGH)
    rep = client_for(make_user(roles.SALES_REP))
    for url in ("/api/v1/segments/", f"/api/v1/segments/{segment.pk}/count/"):
        assert rep.get(url).status_code == 403
        assert APIClient().get(url).status_code == 401
    assert rep.post("/api/v1/segments/preview/", {"rules": HIGH}, format="json").status_code == 403


def test_the_count_is_the_selectors_count(marketer, people):
    rules = {
        "any": [
            {"field": "intent_score", "op": "gte", "value": 80},
            {"event": "pricing_view", "within_days": 7},
        ]
    }
    EventFactory(contact=people["cold"], type="pricing_view")
    segment = Segment.objects.create(name="Hot or pricing", rules=rules)

    counted = client_for(marketer).get(f"/api/v1/segments/{segment.pk}/count/").json()
    previewed = client_for(marketer).post(
        "/api/v1/segments/preview/", {"rules": rules}, format="json"
    )

    assert counted == {"count": segment_contacts(rules=rules).count()} == {"count": 2}
    assert previewed.json()["count"] == 2
    assert {row["name"] for row in previewed.json()["contacts"]} == {"Hot Lead", "Cold Lead"}


def test_a_sample_has_the_size_asked_for_newest_first(marketer, people):
    segment = Segment.objects.create(name="Everyone", rules={"all": []})
    api = client_for(marketer)

    sample = api.get(f"/api/v1/segments/{segment.pk}/sample/?size=2").json()

    assert sample["count"] == 3
    assert sample["contacts"] == [
        {
            "id": people["cold"].pk,
            "name": "Cold Lead",
            "email": people["cold"].email,
            "lifecycle_stage": people["cold"].lifecycle_stage,
            "intent_band": "low",
            "intent_score": 5.0,
        },
        {
            "id": people["warm"].pk,
            "name": "Warm Lead",
            "email": people["warm"].email,
            "lifecycle_stage": people["warm"].lifecycle_stage,
            "intent_band": "high",
            "intent_score": 70.0,
        },
    ]
    assert len(api.get(f"/api/v1/segments/{segment.pk}/sample/").json()["contacts"]) == 3
    for bad in ("0", "101", "two"):
        response = api.get(f"/api/v1/segments/{segment.pk}/sample/?size={bad}")
        assert response.status_code == 400
        assert list(response.json()) == ["size"]


def test_a_sample_is_only_for_those_who_may_read_contacts(make_user, people):
    """A user who may read segments but not contacts gets the count and no contact."""
    from django.contrib.auth.models import Permission

    reader = make_user(roles.MARKETER)
    reader.groups.clear()
    reader.user_permissions.add(Permission.objects.get(codename="view_segment"))
    segment = Segment.objects.create(name="High intent", rules=HIGH)
    api = client_for(reader)

    assert api.get(f"/api/v1/segments/{segment.pk}/sample/").status_code == 403
    previewed = api.post("/api/v1/segments/preview/", {"rules": HIGH}, format="json")
    assert previewed.status_code == 200
    assert previewed.json() == {"count": 2}


def test_the_preview_refuses_bad_rules_and_sizes(marketer):
    api = client_for(marketer)
    bad = api.post(
        "/api/v1/segments/preview/",
        {"rules": {"all": [{"field": "intent_band", "op": "gte", "value": "high"}]}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "rules": ['all[0].op: "gte" does not apply to intent_band; choose from eq, in, not_in']
    }
    size = api.post("/api/v1/segments/preview/", {"rules": HIGH, "size": 1000}, format="json")
    assert size.status_code == 400
    assert list(size.json()) == ["size"]


# The builder's catalogue (admin)

CATALOGUE = "/admin/contacts/segment/catalogue/"


def test_the_catalogue_offers_fields_with_their_operators_and_choices(client, marketer):
    AttributeDefinition.objects.create(
        key="plan", label="Plan", type="choice", options=["free", "pro"]
    )
    client.force_login(marketer)

    catalogue = client.get(CATALOGUE).json()

    fields = {(f["kind"], f["key"]): f for f in catalogue["fields"]}
    assert fields[("field", "intent_band")] == {
        "kind": "field",
        "key": "intent_band",
        "group": "Contact",
        "label": "Intent band",
        "type": "choice",
        "ops": [
            {"value": "eq", "label": "is"},
            {"value": "in", "label": "is any of"},
            {"value": "not_in", "label": "is none of"},
        ],
        "choices": [
            {"value": "high", "label": "High"},
            {"value": "medium", "label": "Medium"},
            {"value": "low", "label": "Low"},
        ],
    }
    assert [c["value"] for c in fields[("field", "lifecycle_stage")]["choices"]] == [
        "subscriber", "lead", "mql", "sql", "opportunity", "customer", "churned",
    ]  # fmt: skip
    plan = fields[("attribute", "plan")]
    assert (plan["group"], plan["type"], plan["choices"]) == (
        "Custom attributes",
        "choice",
        [{"value": "free", "label": "free"}, {"value": "pro", "label": "pro"}],
    )
    assert [op["value"] for op in plan["ops"]] == ["eq", "in", "not_in", "is_set", "is_not_set"]
    assert catalogue["consent"]["statuses"][2] == {"value": "opted_in", "label": "Opted in"}
    assert {"value": "pricing_view", "label": "Viewed pricing"} in catalogue["events"]


def test_every_field_the_catalogue_offers_compiles_with_its_first_operator(client, marketer):
    """The builder's default rule for each field is one the compiler takes."""
    client.force_login(marketer)
    for field in client.get(CATALOGUE).json()["fields"]:
        op = field["ops"][0]["value"]
        value = (
            field["choices"][0]["value"]
            if "choices" in field
            else {"number": 1, "days": 1, "reference": 1}.get(field["type"], "x")
        )
        segment_contacts(rules={"all": [{field["kind"]: field["key"], "op": op, "value": value}]})


def test_the_catalogue_lists_event_types_seen_lately(client, marketer, people):
    EventFactory(contact=people["hot"], type="trial_started")
    client.force_login(marketer)

    events = client.get(CATALOGUE).json()["events"]

    assert {"value": "trial_started", "label": "Trial started"} in events


def test_the_catalogue_reads_the_event_types_seen_once_per_few_minutes(client, marketer, people):
    EventFactory(contact=people["hot"], type="trial_started")
    client.force_login(marketer)
    client.get(CATALOGUE)
    EventFactory(contact=people["hot"], type="trial_extended")

    events = [each["value"] for each in client.get(CATALOGUE).json()["events"]]

    assert ("trial_started" in events, "trial_extended" in events) == (True, False)
    cache.clear()
    assert {"value": "trial_extended", "label": "Trial extended"} in client.get(CATALOGUE).json()[
        "events"
    ]


def test_the_catalogue_is_refused_to_reps_and_visitors(client, make_user):
    assert client.get(CATALOGUE).status_code == 403
    client.force_login(make_user(roles.SALES_REP))
    assert client.get(CATALOGUE).status_code == 403
    assert client.post(CATALOGUE).status_code == 405
