"""Journeys' goals and triggers read the customer's stages: an opportunity moving forward in
its own pipeline ends the journey, a move back or to a lost stage does not, and a stage
change heard of long after it happened starts no journey (but still ends one)."""

from datetime import timedelta

import pytest

from apps.contacts.models import Event, LifecycleStageDefinition, Pipeline, PipelineStage
from apps.contacts.services import contact_update, opportunity_upsert
from apps.journeys.intake import STAGE_TRIGGER_WINDOW
from apps.journeys.models import Enrollment
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build
from tests.journeys.conftest import MIDDAY
from tests.journeys.scenario import happen
from tests.stages import customer_lifecycle, enterprise_pipeline

pytestmark = pytest.mark.django_db

WAIT_A_DAY = [("wait", "wait", {"hours": 24})]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Runs what a write hands off after commit (the journeys' event handler)."""

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run


@pytest.fixture
def enterprise(db):
    return enterprise_pipeline()


def deal_move(contact, pipeline, stage, **kwargs):
    return opportunity_upsert(
        external_id="e-1", name="Fleet", stage=stage, contact=contact, pipeline=pipeline, **kwargs
    )


def enrolled(on_commit, contact, **journey_fields) -> Enrollment:
    journey = journey_build(steps=WAIT_A_DAY, **journey_fields)
    on_commit(happen, contact, "webinar_registered", f"reg-{contact.pk}")
    return Enrollment.objects.get(journey=journey, contact=contact)


@pytest.mark.parametrize(
    ("moves", "state"),
    [
        (["disc"], "waiting"),  # nego → disc: back
        (["dropped"], "waiting"),  # lost is no progress
        (["disc", "signed"], "goal_reached"),  # disc → signed: forward, won
    ],
)
def test_an_opportunity_goal_ends_on_a_forward_move_in_the_customers_pipeline(
    clock, on_commit, enterprise, moves, state
):
    contact = ContactFactory()
    on_commit(deal_move, contact, enterprise, "nego")  # before the journey
    enrollment = enrolled(on_commit, contact, exit_on_opportunity=True)

    for stage in moves:
        on_commit(deal_move, contact, enterprise, stage)

    enrollment.refresh_from_db()
    assert enrollment.state == state


def test_a_lifecycle_goal_reads_the_customers_stage_order(clock, on_commit):
    customer_lifecycle()
    contact = ContactFactory(lifecycle_stage="lead")
    enrollment = enrolled(on_commit, contact, exit_lifecycle_stage="evaluating")

    on_commit(contact_update, contact=contact, fields={"lifecycle_stage": "sql"})
    enrollment.refresh_from_db()
    assert enrollment.state == "waiting"  # sql comes before evaluating
    on_commit(contact_update, contact=contact, fields={"lifecycle_stage": "paying"})
    enrollment.refresh_from_db()
    assert enrollment.state == "goal_reached"


@pytest.mark.parametrize(
    ("late_by", "enrolled_count"),
    [(STAGE_TRIGGER_WINDOW, 1), (STAGE_TRIGGER_WINDOW + timedelta(seconds=1), 0)],
)
def test_a_stage_change_heard_of_late_starts_no_journey(
    clock, on_commit, enterprise, late_by, enrolled_count
):
    journey = journey_build(steps=WAIT_A_DAY, trigger_event_type="stage_changed")
    contact = ContactFactory()
    on_commit(deal_move, contact, enterprise, "disc", stage_changed_at=MIDDAY - 9 * late_by)
    Enrollment.objects.all().delete()  # whatever the creation started: start over

    on_commit(deal_move, contact, enterprise, "nego", stage_changed_at=MIDDAY - late_by)

    assert Enrollment.objects.filter(journey=journey, contact=contact).count() == enrolled_count


def test_a_change_older_than_the_current_stage_starts_no_journey_however_soon_heard(
    clock, on_commit, enterprise
):
    lifecycle = journey_build(
        name="Became an MQL",
        steps=WAIT_A_DAY,
        trigger_event_type="lifecycle_stage_changed",
        trigger_filters={"to": "mql"},
    )
    deals = journey_build(name="Deal moved", steps=WAIT_A_DAY, trigger_event_type="stage_changed")
    contact = ContactFactory(lifecycle_stage="lead")
    on_commit(deal_move, contact, enterprise, "disc", stage_changed_at=MIDDAY - timedelta(hours=5))
    on_commit(
        deal_move, contact, enterprise, "signed", stage_changed_at=MIDDAY - timedelta(hours=1)
    )
    on_commit(
        contact_update,
        contact=contact,
        fields={"lifecycle_stage": "sql"},
        stage_changed_at=MIDDAY - timedelta(hours=1),
    )
    assert Enrollment.objects.filter(journey=deals).count() == 1  # a current move enrolls
    Enrollment.objects.all().delete()

    on_commit(deal_move, contact, enterprise, "nego", stage_changed_at=MIDDAY - timedelta(hours=3))
    on_commit(
        contact_update,
        contact=contact,
        fields={"lifecycle_stage": "mql"},
        stage_changed_at=MIDDAY - timedelta(hours=3),
    )

    assert Enrollment.objects.filter(journey__in=[lifecycle, deals]).count() == 0
    assert Event.objects.filter(properties__superseded=True).count() == 2


def test_a_stage_change_heard_of_late_still_ends_a_journey(clock, on_commit, enterprise):
    contact = ContactFactory()
    on_commit(deal_move, contact, enterprise, "disc", stage_changed_at=MIDDAY - timedelta(days=20))
    enrollment = enrolled(on_commit, contact, exit_on_opportunity=True)

    on_commit(deal_move, contact, enterprise, "signed", stage_changed_at=MIDDAY - timedelta(days=9))

    enrollment.refresh_from_db()
    assert enrollment.state == "goal_reached"


@pytest.mark.parametrize(
    "journey_fields",
    [
        {"exit_lifecycle_stage": "evaluating"},
        {"steps": [("promote", "set_lifecycle_stage", {"stage": "evaluating"})]},
    ],
)
def test_the_admin_keeps_a_stage_a_journey_names(admin_client, journey_fields):
    customer_lifecycle()
    journey_build(**{"steps": WAIT_A_DAY, **journey_fields})
    stage = LifecycleStageDefinition.objects.get(key="evaluating")
    unused = LifecycleStageDefinition.objects.get(key="paying")

    kept = admin_client.post(
        f"/admin/contacts/lifecyclestagedefinition/{stage.pk}/delete/", {"post": "yes"}
    )
    gone = admin_client.post(
        f"/admin/contacts/lifecyclestagedefinition/{unused.pk}/delete/", {"post": "yes"}
    )

    assert (kept.status_code, gone.status_code) == (200, 302)
    assert len(kept.context["protected"]) == 1
    assert kept.context["protected"][0].startswith("Journey “Test journey” (")
    assert list(
        LifecycleStageDefinition.objects.filter(key__in=["evaluating", "paying"]).values_list(
            "key", flat=True
        )
    ) == ["evaluating"]


@pytest.mark.parametrize(
    ("moves", "state"),
    [
        (["disc"], "waiting"),  # before the goal stage
        (["nego"], "goal_reached"),  # the goal stage itself
        (["disc", "signed"], "goal_reached"),  # past it: won
        (["dropped"], "waiting"),  # lost is listed later, and reaches no goal
    ],
)
def test_a_deal_stage_goal_ends_once_a_deal_reaches_that_stage_of_its_pipeline(
    clock, on_commit, enterprise, moves, state
):
    goal = enterprise.stages.get(key="nego")
    contact = ContactFactory()
    enrollment = enrolled(on_commit, contact, exit_pipeline_stage=goal)

    for stage in moves:
        on_commit(deal_move, contact, enterprise, stage)

    enrollment.refresh_from_db()
    assert enrollment.state == state
    goals = list(enrollment.activity.filter(kind="goal").values_list("reason", flat=True))
    reached = ["Goal reached: opportunity reached Enterprise: Negotiation"]
    assert goals == (reached if state == "goal_reached" else [])


def test_a_deal_stage_goal_is_not_reached_by_the_same_stage_of_another_pipeline(
    clock, on_commit, enterprise
):
    partner = Pipeline.objects.create(key="partner", label="Partner")
    for stage in enterprise.stages.all():
        PipelineStage.objects.create(
            pipeline=partner, key=stage.key, label=stage.label, order=stage.order,
            meaning=stage.meaning,
        )  # fmt: skip
    contact = ContactFactory()
    enrollment = enrolled(on_commit, contact, exit_pipeline_stage=enterprise.stages.get(key="disc"))

    on_commit(deal_move, contact, partner, "signed")

    enrollment.refresh_from_db()
    assert enrollment.state == "waiting"
    on_commit(
        opportunity_upsert, external_id="e-2", name="Fleet 2", stage="disc", contact=contact,
        pipeline=enterprise,
    )  # fmt: skip
    enrollment.refresh_from_db()
    assert enrollment.state == "goal_reached"  # a new deal's first stage is a move to it
