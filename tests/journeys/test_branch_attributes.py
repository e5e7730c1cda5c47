"""A journey branch on a custom attribute: the same rule language as segments."""

import pytest

from apps.journeys.models import Enrollment
from apps.journeys.simulator import ContactDescription, journey_simulate
from tests.factories import AttributeDefinitionFactory
from tests.journeys.builders import journey_build
from tests.journeys.scenario import happen

pytestmark = pytest.mark.django_db

RULES = {"all": [{"attribute": "plan", "op": "in", "value": ["pro", "team"]}]}


@pytest.fixture
def plan():
    return AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro", "team"])


@pytest.mark.parametrize(
    ("attributes", "path"), [({"plan": "pro"}, "yes"), ({"plan": "free"}, "no"), ({}, "no")]
)
def test_it_branches_on_a_custom_attribute(
    clock, plan, opted_in_contact, django_capture_on_commit_callbacks, attributes, path
):
    journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": RULES}, "then": "yes", "else": "no"}),
            ("yes", "exit", {}),
            ("no", "exit", {}),
        ]
    )
    contact = opted_in_contact(attributes=attributes)

    with django_capture_on_commit_callbacks(execute=True):
        happen(contact, "webinar_registered", "reg-1")

    enrollment = Enrollment.objects.get(contact=contact)
    assert enrollment.current_step.key == path
    [decision] = enrollment.activity.filter(kind="decision")
    words = "matches" if path == "yes" else "does not match"
    assert decision.reason == f"Contact {words} the branch rules."


@pytest.mark.parametrize(
    ("op", "path"),
    [("in", ["check", "no"]), ("not_in", ["check", "yes"]), ("is_not_set", ["check", "yes"])],
)
def test_the_simulator_reads_a_described_contact_as_having_no_attributes(clock, plan, op, path):
    rule = {"attribute": "plan", "op": op}
    rule = rule if op == "is_not_set" else {**rule, "value": ["pro"]}
    journey = journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": rule}, "then": "yes", "else": "no"}),
            ("yes", "exit", {}),
            ("no", "exit", {}),
        ]
    )
    description = ContactDescription(time_zone="America/Chicago", phone="+13125550100")

    result = journey_simulate(
        journey=journey, event_type="webinar_registered", description=description
    )

    assert result.path == path
