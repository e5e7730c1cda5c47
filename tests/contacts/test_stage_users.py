"""A stage that a saved segment or a journey names cannot be deleted: the delete page
refuses and names what uses it, and nothing is deleted."""

import pytest

from apps.contacts.models import LifecycleStageDefinition, Pipeline, PipelineStage, Segment
from tests.journeys.builders import journey_build
from tests.stages import customer_lifecycle, enterprise_pipeline

pytestmark = pytest.mark.django_db

WAIT = [("wait", "wait", {"hours": 24})]


def lifecycle_delete(admin_client, key: str):
    stage = LifecycleStageDefinition.objects.get(key=key)
    return admin_client.post(
        f"/admin/contacts/lifecyclestagedefinition/{stage.pk}/delete/", {"post": "yes"}
    )


def pipeline_stage_delete(admin_client, pipeline_key: str, key: str):
    stage = PipelineStage.objects.get(pipeline__key=pipeline_key, key=key)
    return admin_client.post(f"/admin/contacts/pipelinestage/{stage.pk}/delete/", {"post": "yes"})


def test_a_lifecycle_stage_a_segment_names_is_kept_and_the_segment_named(admin_client):
    customer_lifecycle()
    nested = {"any": [{"not": {"field": "lifecycle_stage", "op": "in", "value": ["evaluating"]}}]}
    Segment.objects.create(name="Not yet evaluating", rules=nested)
    Segment.objects.create(
        name="Pricing viewers",  # "evaluating" here is event data, not a stage
        rules={"all": [{"event": "pricing_view", "properties": {"stage": "paying"}}]},
    )

    kept = lifecycle_delete(admin_client, "evaluating")
    gone = lifecycle_delete(admin_client, "paying")

    assert kept.status_code == 200
    assert kept.context["protected"] == ["Segment “Not yet evaluating” names Evaluating"]
    assert (gone.status_code, gone.url) == (302, "/admin/contacts/lifecyclestagedefinition/")
    assert list(
        LifecycleStageDefinition.objects.filter(key__in=["evaluating", "paying"]).values_list(
            "key", flat=True
        )
    ) == ["evaluating"]


def test_journeys_triggers_and_branches_name_their_stages(admin_client):
    customer_lifecycle()
    journey_build(
        name="Evaluating",
        steps=WAIT,
        trigger_event_type="lifecycle_stage_changed",
        trigger_filters={"to": "evaluating"},
    )
    branch = {
        "condition": {
            "rules": {"all": [{"field": "lifecycle_stage", "op": "eq", "value": "paying"}]}
        },
        "then": "wait",
        "else": "wait",
    }
    journey_build(name="Still paying", steps=[("check", "branch", branch), *WAIT])

    trigger = lifecycle_delete(admin_client, "evaluating")
    branched = lifecycle_delete(admin_client, "paying")

    assert trigger.context["protected"] == ["Journey “Evaluating” (its trigger) names Evaluating"]
    assert branched.context["protected"] == ["Journey “Still paying” (branch check) names Paying"]
    assert LifecycleStageDefinition.objects.filter(key__in=["evaluating", "paying"]).count() == 2


def test_a_pipeline_stage_is_kept_for_the_segments_naming_it_in_its_pipeline(admin_client):
    enterprise_pipeline()
    Segment.objects.create(
        name="Enterprise negotiations",
        rules={"all": [{"opportunity": {"pipeline": "enterprise", "stage": ["nego"]}}]},
    )
    Segment.objects.create(
        name="Any demo",  # no pipeline: the key in every pipeline
        rules={"all": [{"opportunity": {"stage": ["demo"]}}]},
    )
    Segment.objects.create(
        name="Sales proposals",
        rules={"all": [{"opportunity": {"pipeline": "sales", "stage": ["proposal"]}}]},
    )

    nego = pipeline_stage_delete(admin_client, "enterprise", "nego")
    demo = pipeline_stage_delete(admin_client, "sales", "demo")
    signed = pipeline_stage_delete(admin_client, "enterprise", "signed")

    assert nego.context["protected"] == [
        "Segment “Enterprise negotiations” names Enterprise: Negotiation"
    ]
    assert demo.context["protected"] == ["Segment “Any demo” names Sales pipeline: Demo"]
    assert signed.status_code == 302
    assert list(
        PipelineStage.objects.filter(key__in=["nego", "demo", "signed"]).values_list(
            "key", flat=True
        )
    ) == ["demo", "nego"]


def test_a_stage_changed_trigger_names_the_stage_of_its_pipeline(admin_client):
    enterprise = enterprise_pipeline()
    journey_build(
        name="Signed",
        steps=WAIT,
        trigger_event_type="stage_changed",
        trigger_filters={"to": "signed", "pipeline_id": enterprise.pk},
    )

    refused = pipeline_stage_delete(admin_client, "enterprise", "signed")

    assert refused.context["protected"] == [
        "Journey “Signed” (its trigger) names Enterprise: Signed"
    ]
    assert PipelineStage.objects.filter(key="signed").exists()


def test_a_pipeline_a_segment_names_is_kept(admin_client):
    enterprise = enterprise_pipeline()
    Segment.objects.create(
        name="Enterprise wins",
        rules={"all": [{"opportunity": {"pipeline": "enterprise", "meaning": ["won"]}}]},
    )

    refused = admin_client.post(
        f"/admin/contacts/pipeline/{enterprise.pk}/delete/", {"post": "yes"}
    )

    assert refused.context["protected"] == ["Segment “Enterprise wins” names Enterprise"]
    assert Pipeline.objects.filter(key="enterprise").exists()
    assert PipelineStage.objects.filter(pipeline=enterprise).count() == 4


def test_a_journeys_deal_stage_goal_keeps_its_stage(admin_client):
    enterprise = enterprise_pipeline()
    journey_build(
        name="Until negotiation", steps=WAIT, exit_pipeline_stage=enterprise.stages.get(key="nego")
    )

    refused = pipeline_stage_delete(admin_client, "enterprise", "nego")

    # The database's own protection names the journey and its version; the words say why.
    protected = refused.context["protected"]
    assert "Journey “Until negotiation” (its goal) names Enterprise: Negotiation" in protected
    assert len(protected) == 3, protected
    assert PipelineStage.objects.filter(pipeline=enterprise, key="nego").exists()
