"""Blueprints name lifecycle stages by meaning: a team that renamed its stages loads a
working journey, and one with no stage of a needed meaning is told what to add."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.accounts import roles
from apps.contacts.models import Contact, LifecycleStageDefinition, Segment
from apps.journeys.blueprints import BLUEPRINTS, SEGMENTS, blueprint_get, blueprint_load
from apps.journeys.models import Journey
from apps.journeys.services import JourneyError
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renamed_stages():
    """The customer's own stage names: none of Cue's default keys is left (renamed in
    place, as rows elsewhere refer to the stages)."""
    renames = {
        "subscriber": "visitor",
        "lead": "newcomer",
        "mql": "engaged",
        "sql": "qualified",
        "opportunity": "deal",
        "customer": "paying",
        "churned": "lapsed",
    }
    for old, new in renames.items():
        LifecycleStageDefinition.objects.filter(key=old).update(key=new, label=new.title())
    LifecycleStageDefinition.objects.create(
        key="premium", label="Premium", order=6, meaning="customer"
    )


def contact_at(stage: str) -> Contact:
    return ContactFactory(lifecycle_stage=stage)


def test_no_blueprint_names_a_default_stage_key():
    default_keys = {"subscriber", "lead", "mql", "sql", "opportunity", "customer", "churned"}

    def keys_named(value) -> set:
        if isinstance(value, dict):
            named = set()
            if value.get("field") == "lifecycle_stage":
                named |= set(
                    value["value"] if isinstance(value["value"], list) else [value["value"]]
                )
            if isinstance(value.get("to"), str):
                named.add(value["to"])
            return named | {k for item in value.values() for k in keys_named(item)}
        if isinstance(value, list | tuple):
            return {k for item in value for k in keys_named(item)}
        return set()

    everything = [SEGMENTS, *[(b.fields, b.steps) for b in BLUEPRINTS]]
    assert keys_named(everything) & default_keys == set()


def test_the_onboarding_blueprint_triggers_on_the_customers_first_customer_stage(
    make_user, renamed_stages
):
    marketer = make_user(roles.MARKETER)

    journey = blueprint_load(blueprint=blueprint_get("customer-onboarding"), actor=marketer).journey

    assert (journey.trigger_event_type, journey.trigger_filters) == (
        "lifecycle_stage_changed",
        {"to": "paying"},
    )


def test_blueprint_segments_and_branches_match_renamed_stages(make_user, renamed_stages):
    marketer = make_user(roles.MARKETER)
    early, qualified, deal, lapsed = (
        contact_at("engaged"),
        contact_at("qualified"),
        contact_at("deal"),
        contact_at("lapsed"),
    )
    for slug in ("stalled-high-intent", "reactivation", "email-first"):
        blueprint_load(blueprint=blueprint_get(slug), actor=marketer)
    email_first = Journey.objects.get(name="Email first, then SMS")
    still_early = email_first.steps.get(key="still_early").config["condition"]["rules"]

    prospects = Segment.objects.get(name="High-intent prospects").rules["all"][2]
    churned = Segment.objects.get(name="Churned customers").contacts()
    assert set(
        Contact.objects.filter(pk__in=[early.pk, qualified.pk, deal.pk]).filter(
            pk__in=Segment(rules={"all": [prospects]}).contacts()
        )
    ) == {early, qualified}
    assert set(churned) == {lapsed}
    assert set(Segment(rules=still_early).contacts()) == {early}


def test_a_blueprint_needing_a_meaning_no_stage_has_says_what_to_add(client, make_user):
    LifecycleStageDefinition.objects.filter(meaning="customer").update(meaning="opportunity")
    marketer = make_user(roles.MARKETER)

    with pytest.raises(JourneyError) as refused:
        blueprint_load(blueprint=blueprint_get("customer-onboarding"), actor=marketer)
    client.force_login(marketer)
    response = client.post(
        reverse("admin:journeys_journey_blueprint_load", args=["customer-onboarding"])
    )

    message = (
        "The blueprint “Customer onboarding: connect the calendar” needs a lifecycle stage "
        "that means customer, and none does. Give one of your stages that meaning under "
        "Contacts → Lifecycle stage definitions, then load it again."
    )
    assert refused.value.message == message
    assert (response.status_code, response.url) == (
        302,
        reverse("admin:journeys_journey_blueprints"),
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]
    assert Journey.objects.count() == 0
