"""The opportunity rule names a stage within its pipeline, or a meaning across pipelines:
two pipelines may each have a stage keyed "negotiation". A rule that names no pipeline
matches the key in any pipeline, as every rule saved before pipelines did."""

import json

import pytest

from apps.contacts.models import Opportunity, Pipeline, PipelineStage, Segment
from apps.contacts.segments import segment_contacts, segment_rules_validate
from tests.factories import ContactFactory
from tests.stages import enterprise_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def partners():
    """A second pipeline that also has a stage keyed "negotiation" (and a "won" one)."""
    pipeline = Pipeline.objects.create(key="partners", label="Partners")
    for order, (key, meaning) in enumerate([("negotiation", "open"), ("onboarded", "won")], 1):
        PipelineStage.objects.create(
            pipeline=pipeline, key=key, label=key.title(), order=order, meaning=meaning
        )
    return pipeline


def deal_for(stage: str, pipeline: Pipeline | None = None):
    contact = ContactFactory()
    Opportunity.objects.create(
        name="Deal", contact=contact, pipeline=pipeline, stage=stage, opened_at="2026-03-01T00:00Z"
    )
    return contact


def matching(details: dict, exists: bool = True) -> set:
    rules = {"all": [{"opportunity": details, "exists": exists}]}
    return set(segment_contacts(rules=rules))


def test_a_stage_is_matched_within_the_pipeline_the_rule_names(partners):
    in_default = deal_for("negotiation")
    in_default_explicitly = deal_for("negotiation", Pipeline.objects.get(key="sales"))
    in_partners = deal_for("negotiation", partners)

    assert matching({"pipeline": "partners", "stage": ["negotiation"]}) == {in_partners}
    assert matching({"pipeline": "sales", "stage": ["negotiation"]}) == {
        in_default,
        in_default_explicitly,
    }
    assert in_partners in matching({"pipeline": "sales", "stage": ["negotiation"]}, False)


def test_a_rule_without_a_pipeline_matches_the_key_in_every_pipeline(partners):
    in_default = deal_for("negotiation")
    in_partners = deal_for("negotiation", partners)
    deal_for("demo")

    assert matching({"stage": ["negotiation"]}) == {in_default, in_partners}


def test_a_meaning_matches_whatever_each_pipeline_calls_it(partners):
    enterprise = enterprise_pipeline()
    won_default = deal_for("closed_won")
    won_partners = deal_for("onboarded", partners)
    won_enterprise = deal_for("signed", enterprise)
    deal_for("negotiation", partners)
    deal_for("dropped", enterprise)

    assert matching({"meaning": ["won"]}) == {won_default, won_partners, won_enterprise}
    assert matching({"pipeline": "partners", "meaning": ["won"]}) == {won_partners}


@pytest.mark.parametrize(
    ("details", "error"),
    [
        (
            {"pipeline": "partners", "stage": ["closed_won"]},
            'all[0].opportunity.stage: "closed_won" is not a stage of the pipeline "partners"; '
            "choose from negotiation, onboarded",
        ),
        (
            {"pipeline": "resellers", "stage": ["negotiation"]},
            'all[0].opportunity.pipeline: "resellers" is not a pipeline; choose from sales, '
            "partners",
        ),
        (
            {"meaning": ["closed"]},
            'all[0].opportunity.meaning: "closed" is not a stage meaning; choose from open, won, '
            "lost",
        ),
        (
            {"stage": ["nope"]},
            'all[0].opportunity.stage: "nope" is not an opportunity stage; choose from '
            "discovery, demo, proposal, negotiation, closed_won, closed_lost, onboarded",
        ),
        (
            {"pipeline": 3},
            "all[0].opportunity.pipeline: 3 is not a pipeline; choose from sales, partners",
        ),
    ],
)
def test_a_stage_not_in_the_named_pipeline_is_refused_with_its_name(partners, details, error):
    assert segment_rules_validate({"all": [{"opportunity": details}]}) == [error]


def test_the_segment_form_refuses_a_stage_outside_the_pipeline_and_saves_nothing(
    admin_client, partners
):
    rules = {"all": [{"opportunity": {"pipeline": "partners", "stage": ["demo"]}}]}

    response = admin_client.post(
        "/admin/contacts/segment/add/",
        {"name": "Partner demos", "description": "", "rules": json.dumps(rules)},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "rules": [
            'all[0].opportunity.stage: "demo" is not a stage of the pipeline "partners"; '
            "choose from negotiation, onboarded"
        ]
    }
    assert Segment.objects.count() == 0
