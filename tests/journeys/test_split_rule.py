"""One rule for a split's variants, wherever they come from: the REST API's steps replace
refuses a split that breaks it with a 400 naming the step and the variant, the builder's form
with an error on the variants, activation with a problem on the step, each in the same words
(split_variants_problems), and the service refuses what reaches it anyway."""

import pytest

from apps.accounts import roles
from apps.journeys.graph import journey_problems
from apps.journeys.models import JourneyStatus, JourneyVersion, Step
from apps.journeys.services import JourneyError
from apps.journeys.steps import SPECS
from apps.journeys.steps.split import split_variants_problems
from apps.journeys.versions import journey_draft_start, version_steps_replace
from tests.journeys.builders import journey_build
from tests.journeys.test_journeys_api import draft_id, live_journey, token_client

pytestmark = pytest.mark.django_db

V = "steps.ab.config.variants"
DONE = {"key": "done", "kind": "exit", "config": {}}


def whole(name: str, given: str) -> str:
    return f"Variant {name}'s percent must be a whole number from 0 to 100, not {given}."


def _split(variants) -> list[dict]:
    return [{"key": "ab", "kind": "split", "config": {"variants": variants}}, DONE]


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="mara")


@pytest.mark.parametrize(
    ("variants", "errors"),
    [
        pytest.param(
            [{"name": "A", "percent": 99.5, "next": "done"}, {"name": "B", "percent": 0.5}],
            {
                f"{V}.#1.percent": [whole("A", "99.5")],
                f"{V}.#2.percent": [whole("B", "0.5")],
            },
            id="decimals adding up to 100",
        ),
        pytest.param(
            [{"name": "A", "percent": -10}, {"name": "B", "percent": 110}],
            {
                f"{V}.#1.percent": [whole("A", "-10")],
                f"{V}.#2.percent": [whole("B", "110")],
            },
            id="a negative weight",
        ),
        pytest.param(
            [{"name": "A", "percent": 100, "next": "done"}],
            {V: ["An A/B split needs at least two variants."]},
            id="a single variant at 100",
        ),
        pytest.param(
            [{"name": "A", "percent": "50"}, {"name": "B", "percent": 50}],
            {f"{V}.#1.percent": [whole("A", '"50"')]},
            id="a string for a number",
        ),
        pytest.param(
            [{"name": "A", "percent": True}, {"name": "B", "percent": 99}],
            {f"{V}.#1.percent": [whole("A", "true")]},
            id="a boolean for a number",
        ),
        pytest.param(
            [{"name": "A"}, {"name": "B", "percent": 100}],
            {f"{V}.#1.percent": ["Variant A has no percent."]},
            id="a missing weight",
        ),
        pytest.param(
            [{"name": "A", "percent": None}, {"name": "B", "percent": 100}],
            {f"{V}.#1.percent": [whole("A", "null")]},
            id="a null weight",
        ),
        pytest.param(
            [{"name": "A", "percent": 50}, {"name": "A", "percent": 50}],
            {f"{V}.#2.name": ["Two variants are named A: name each apart."]},
            id="a repeated name",
        ),
        pytest.param(
            [{"name": "", "percent": 50}, {"percent": 50}, {"name": "  ", "percent": 0}],
            {
                f"{V}.#1.name": ["Variant #1 has no name."],
                f"{V}.#2.name": ["Variant #2 has no name."],
                f"{V}.#3.name": ["Variant #3 has no name."],
            },
            id="empty names",
        ),
        pytest.param(
            [{"name": "A, B", "percent": 50}, {"name": 7, "percent": 50}],
            {
                f"{V}.#1.name": [
                    "Variant #1's name must be up to 32 characters, without commas, line breaks "
                    "or spaces around it."
                ],
                f"{V}.#2.name": ["Variant #2's name must be text, not 7."],
            },
            id="a name the rows could not hold, and a number for a name",
        ),
        pytest.param(
            [{"name": "A", "percent": 60}, {"name": "B", "percent": 50}],
            {V: ["The variants' percentages add up to 110, not 100."]},
            id="whole numbers adding up to 110",
        ),
        pytest.param(
            [{"name": "A", "percent": 50, "next": "not a key"}, "B"],
            {
                f"{V}.#1.next": ['Variant A\'s next step must be a step key, not "not a key".'],
                f"{V}.#2": ["Variant #2 must be an object with a name, a percent and a next step."],
            },
            id="a bad next step and a variant that is no object",
        ),
        pytest.param(
            {"A": 50, "B": 50},
            {V: ["The variants must be a list of name, percent and next step."]},
            id="variants that are no list",
        ),
    ],
)  # fmt: skip
def test_the_api_refuses_a_bad_split_naming_the_step_and_the_variant(
    clock, marketer, variants, errors
):
    # Given a draft of a live journey
    client = token_client(marketer)
    version = draft_id(client, live_journey())
    before = list(Step.objects.filter(version_id=version).values_list("key", "kind", "config"))

    # When its steps are replaced by a split that breaks the rule
    response = client.put(
        f"/api/v1/journeys/versions/{version}/steps/", {"steps": _split(variants)}, format="json"
    )

    # Then a 400 names each broken field, and the draft's steps are as they were
    assert (response.status_code, response.json()) == (400, errors)
    after = list(Step.objects.filter(version_id=version).values_list("key", "kind", "config"))
    assert after == before


def test_the_api_saves_a_whole_split_as_given(clock, marketer):
    client = token_client(marketer)
    version = draft_id(client, live_journey())
    variants = [
        {"name": "A", "percent": 0, "next": "done"},
        {"name": "Long name with spaces", "percent": 100},
        {"name": "C", "percent": 0, "next": ""},
    ]

    response = client.put(
        f"/api/v1/journeys/versions/{version}/steps/", {"steps": _split(variants)}, format="json"
    )

    assert response.status_code == 200, response.json()
    saved = Step.objects.filter(version_id=version).order_by("position")
    assert [(s.key, s.kind, s.config) for s in saved] == [
        ("ab", "split", {"variants": variants}),
        ("done", "exit", {}),
    ]


def test_a_draft_split_with_no_variants_yet_is_saved_and_activation_asks_for_two(clock, marketer):
    client = token_client(marketer)
    version = draft_id(client, live_journey())

    response = client.put(
        f"/api/v1/journeys/versions/{version}/steps/", {"steps": _split([])}, format="json"
    )

    assert response.status_code == 200, response.json()
    draft = JourneyVersion.objects.get(pk=version)
    assert journey_problems(draft.journey, version=draft) == [
        "Step ab: an A/B split needs at least two variants."
    ]


def test_the_service_refuses_a_bad_split_that_reaches_it(clock, marketer):
    journey = live_journey()
    draft = journey_draft_start(actor=marketer, journey=journey)
    before = list(draft.steps.values_list("key", "config"))
    bad = _split([{"name": "A", "percent": 99.5}, {"name": "B", "percent": 0.5}])

    with pytest.raises(JourneyError) as refused:
        version_steps_replace(actor=marketer, version=draft, steps=bad)

    assert (refused.value.field, refused.value.message) == (
        f"{V}.#1.percent",
        "Variant A's percent must be a whole number from 0 to 100, not 99.5.",
    )
    assert list(draft.steps.values_list("key", "config")) == before


@pytest.mark.parametrize(
    "variants",
    [
        [{"name": "A", "percent": 60, "next": "done"}, {"name": "B", "percent": 50}],
        [{"name": "A", "percent": 100}],
        [{"name": "A", "percent": 50}, {"name": "A", "percent": 50}],
        [{"name": "", "percent": 50}, {"name": "B", "percent": 50}],
    ],
)
def test_the_form_the_api_and_activation_say_the_same_words(variants):
    """The builder's form, the API's field errors and the activation problems are each the
    one rule's problems, worded as each place words them."""
    texts = [problem.text for problem in split_variants_problems(variants)]
    spec = SPECS["split"]
    assert texts  # each case breaks the rule
    sentences = [text[0].upper() + text[1:] for text in texts]

    assert spec.form_errors({"variants": variants}) == {"variants": sentences}
    by_field = spec.config_errors(spec.Config.read({"variants": variants}))
    assert sorted(text for texts in by_field.values() for text in texts) == sorted(sentences)
    journey = journey_build(
        steps=[("ab", "split", {"variants": variants}), ("done", "exit", {})],
        status=JourneyStatus.DRAFT,
    )
    assert journey_problems(journey) == [f"Step ab: {text}" for text in texts]
