"""Blueprints: the six journeys of the source articles, loaded in one click as drafts owned by
whoever loads them, valid once their templates are in the library, and seeded active."""

from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.accounts import demo as accounts_demo
from apps.accounts import roles
from apps.core.demo import demo_seed
from apps.journeys.blueprints import BLUEPRINTS, blueprint_get, blueprint_load, blueprint_templates
from apps.journeys.graph import journey_problems
from apps.journeys.models import Journey
from apps.journeys.simulator import journey_simulate
from apps.library import demo as library_demo
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def workspace(db):
    """The demo users and every template the blueprints use, approved."""
    workspace = {"logins": []}
    accounts_demo.seed(workspace)
    library_demo.seed(workspace)
    users = workspace["users"]
    for spec in blueprint_templates():
        library_demo._template(spec, users["maria"], users["alex"], users["carol"])
    return workspace


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda b: b.slug)
def test_it_makes_a_valid_journey_of_every_blueprint_once_its_templates_exist(workspace, blueprint):
    loaded = blueprint_load(blueprint=blueprint, actor=workspace["users"]["maria"])
    assert loaded.missing_templates == []
    assert journey_problems(loaded.journey) == []


def test_it_offers_the_six_journeys_of_the_articles():
    assert [b.slug for b in BLUEPRINTS] == [
        "webinar-reminder",
        "demo-request",
        "stalled-high-intent",
        "email-first",
        "customer-onboarding",
        "reactivation",
    ]


def test_it_loads_a_blueprint_as_a_draft_owned_by_the_loader(workspace):
    maria = workspace["users"]["maria"]
    blueprint = blueprint_get("email-first")
    journey = blueprint_load(blueprint=blueprint, actor=maria).journey
    journey.refresh_from_db()
    assert (journey.name, journey.status, journey.owner) == (
        "Email first, then SMS",
        "draft",
        maria,
    )
    assert (journey.trigger_event_type, journey.trigger_filters) == (
        "form_submit",
        {"form": "pricing-guide"},
    )
    assert [(s.key, s.kind) for s in journey.steps.order_by("position")] == [
        ("guide", "send_email"),
        ("pause", "wait"),
        ("clicked", "branch"),
        ("still_early", "branch"),
        ("text", "send_sms"),
        ("done", "exit"),
    ]
    assert journey.first_step.key == "guide"
    assert journey.steps.get(key="guide").config == {
        "template": _template_id("Pricing guide (email)"),
        "next": "pause",
    }
    assert journey.steps.get(key="text").config == {
        "template": workspace["templates"]["email-follow-up"].pk
    }
    assert {h.history_user for h in journey.history.all()} == {maria}


def _template_id(name: str) -> int:
    from apps.library.models import MessageTemplate

    return MessageTemplate.objects.get(name=name).pk


def test_it_names_a_second_copy_with_a_suffix(workspace):
    maria = workspace["users"]["maria"]
    blueprint = blueprint_get("demo-request")
    first = blueprint_load(blueprint=blueprint, actor=maria).journey
    second = blueprint_load(blueprint=blueprint, actor=maria).journey
    third = blueprint_load(blueprint=blueprint, actor=maria).journey
    assert [first.name, second.name, third.name] == [
        "Demo request: speed to lead",
        "Demo request: speed to lead (2)",
        "Demo request: speed to lead (3)",
    ]
    assert Journey.objects.filter(status="draft").count() == 3


def test_it_leaves_a_template_the_library_lacks_empty_and_says_so(make_user):
    marketer = make_user(roles.MARKETER)
    loaded = blueprint_load(blueprint=blueprint_get("demo-request"), actor=marketer)
    assert loaded.missing_templates == ["Demo request confirmation"]
    assert loaded.journey.steps.get(key="confirm").config == {"on_deferred": "continue"}
    assert journey_problems(loaded.journey) == ["Step confirm: choose a template."]


def test_it_lets_only_a_marketer_load_a_blueprint(make_user):
    from apps.journeys.services import JourneyError

    with pytest.raises(JourneyError, match=r"^Only a marketer may create journeys\.$"):
        blueprint_load(blueprint=blueprint_get("demo-request"), actor=make_user(roles.APPROVER))
    assert Journey.objects.count() == 0


def test_it_loads_a_blueprint_from_the_journey_list(client, workspace):
    client.force_login(workspace["users"]["maria"])
    listing = client.get(reverse("admin:journeys_journey_changelist"))
    assert 'href="/admin/journeys/journey/blueprints/" id="cue-blueprints"' in (
        listing.content.decode()
    )
    page = client.get(reverse("admin:journeys_journey_blueprints"))
    assert [b.slug for b in page.context["blueprints"]] == [b.slug for b in BLUEPRINTS]
    response = client.post(
        reverse("admin:journeys_journey_blueprint_load", args=["webinar-reminder"])
    )
    journey = Journey.objects.get()
    assert (response.status_code, response.url) == (
        302,
        reverse("admin:journeys_journey_change", args=[journey.pk]),
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Loaded Webinar reminder as a draft. Review it, then ask an approver to activate it."
    ]
    assert (journey.status, journey.owner) == ("draft", workspace["users"]["maria"])


def test_it_refuses_an_approver_who_tries_to_load_a_blueprint(client, workspace):
    client.force_login(workspace["users"]["alex"])
    page = client.get(reverse("admin:journeys_journey_blueprints"))
    assert page.context["may_load"] is False
    url = reverse("admin:journeys_journey_blueprint_load", args=["webinar-reminder"])
    assert client.post(url).status_code == 403
    assert Journey.objects.count() == 0


def test_it_seeds_the_six_journeys_active_once(django_capture_on_commit_callbacks):
    workspace = demo_seed()
    journeys = Journey.objects.order_by("name")
    assert sorted(j.name for j in journeys) == sorted(b.name for b in BLUEPRINTS)
    alex, maria = workspace["users"]["alex"], workspace["users"]["maria"]
    for journey in journeys:
        latest = journey.history.first()
        assert (journey.status, journey.owner) == ("active", maria)
        assert (latest.history_user, latest.history_change_reason) == (alex, "Activated by alex")
    history = Journey.history.count()

    demo_seed()

    assert Journey.objects.count() == 6
    assert Journey.history.count() == history


def test_the_webinar_reminder_goes_one_hour_before_the_start_in_the_registration(workspace):
    journey = blueprint_load(
        blueprint=blueprint_get("webinar-reminder"), actor=workspace["users"]["maria"]
    ).journey
    first = journey.first_step
    assert (first.kind, first.config) == (
        "wait",
        {"until_property": "starts_at", "offset_minutes": -60, "next": "remind"},
    )
    now = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    simulation = journey_simulate(
        journey=journey,
        contact=ContactFactory(time_zone="America/Chicago"),
        event_type="webinar_registered",
        event_properties={"starts_at": "2026-03-12T18:00:00Z"},
        now=now,
    )
    assert simulation.steps[0].outcome == (
        "Waiting until 2026-03-12 17:00 UTC (1 h before starts_at)."
    )
    assert simulation.path[:2] == ["before_start", "remind"]
