"""The builder's diagram is drawn from the form as it stands, before Save (the page posts it
and swaps the SVG in), and a split is saved only when its variants add up to 100."""

import re

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.journeys.models import JourneyStatus, JourneyVersion, Step
from tests.html_forms import form_as_submitted
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="maria")


def _journey():
    return journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "ab"}),
               ("ab", "split", {"variants": [{"name": "A", "percent": 50, "next": "done"},
                                             {"name": "B", "percent": 50, "next": "done"}]}),
               ("done", "exit", {})],
        status=JourneyStatus.DRAFT,
    )  # fmt: skip


def _page_form(client, journey) -> dict[str, list[str]]:
    url = reverse("admin:journeys_journey_change", args=[journey.pk])
    return form_as_submitted(client.get(url).content.decode(), "journey_form")


def _boxes(svg: str) -> dict[str, str]:
    """{key: its box's classes} of every box in the SVG."""
    found = re.findall(r'<g class="(cue-step[^"]*)" data-key="([^"]*)"', svg)
    return {key: classes for classes, key in found}


def _edges(svg: str) -> set[tuple[str, str, str]]:
    return set(re.findall(r'data-from="([^"]*)" data-to="([^"]*)" data-label="([^"]*)"', svg))


def _saved(journey) -> dict:
    return {(s.version_id, s.key): s.config for s in Step.objects.filter(journey=journey)}


def test_it_draws_the_steps_as_posted_and_saves_nothing(client, marketer):
    # Given a draft journey: pause → ab (A, B → done) → done
    journey = _journey()
    saved, versions = _saved(journey), JourneyVersion.objects.count()
    client.force_login(marketer)
    data = _page_form(client, journey)

    # When the form, edited but not saved, is posted for its diagram: the wait now leads
    # nowhere known, "done" becomes a task, and B leads back to pause
    data["steps-0-next_step"] = ["nowhere"]
    data["steps-2-kind"] = ["create_task"]
    data["steps-1-variants"] = ["A, 50, done\nB, 50, pause"]
    response = client.post(reverse("admin:journeys_journey_diagram", args=[journey.pk]), data)

    # Then the diagram is of the form as it stands
    assert response.status_code == 200
    svg = response.json()["svg"]
    assert _boxes(svg) == {
        "pause": "cue-step cue-step-wait",
        "nowhere": "cue-step cue-step-missing",
        "ab": "cue-step cue-step-split",
        "done": "cue-step cue-step-create_task",
    }
    assert _edges(svg) == {
        ("pause", "nowhere", "next"),
        ("ab", "done", "A"),
        ("ab", "pause", "B"),
    }
    assert "A 50% · B 50%" in svg
    # And nothing was saved
    assert _saved(journey) == saved
    assert JourneyVersion.objects.count() == versions


def test_it_draws_a_new_journeys_steps_and_half_filled_ones(client, marketer):
    """On the add page there is no journey yet; a step whose fields are not all valid yet is
    drawn from those that are."""
    template = sms_template(name="Reminder")
    client.force_login(marketer)
    data = {
        "steps-0-key": "remind", "steps-0-kind": "send_sms", "steps-0-position": "0",
        "steps-0-sms_template": str(template.pk), "steps-0-next_step": "pause",
        "steps-1-key": "pause", "steps-1-kind": "wait", "steps-1-position": "1",
        "steps-1-wait_amount": "not a number", "steps-1-wait_unit": "hours",
        "steps-1-next_step": "bad key!",
        "steps-2-key": "", "steps-2-kind": "",  # the spare form
        "steps-3-key": "gone", "steps-3-kind": "exit", "steps-3-DELETE": "on",
    }  # fmt: skip

    response = client.post(reverse("admin:journeys_journey_diagram_new"), data)

    assert response.status_code == 200
    svg = response.json()["svg"]
    assert _boxes(svg) == {
        "remind": "cue-step cue-step-send_sms",
        "pause": "cue-step cue-step-wait",
    }
    assert _edges(svg) == {("remind", "pause", "next")}
    assert "Reminder" in svg and "waits no time set" in svg


def test_it_draws_an_empty_form_and_refuses_what_is_not_a_post_or_not_allowed(
    client, marketer, make_user
):
    journey = _journey()
    url = reverse("admin:journeys_journey_diagram", args=[journey.pk])
    client.force_login(marketer)
    assert client.get(url).status_code == 405
    empty = client.post(url, {"steps-0-key": "a\x00b", "steps-0-kind": "nonsense"})
    assert empty.status_code == 200
    assert "No steps yet." in empty.json()["svg"]
    client.force_login(make_user(roles.SALES_REP, username="rep"))
    # A sales rep has no admin: sent to sign in, nothing drawn
    for refused in (url, reverse("admin:journeys_journey_diagram_new")):
        response = client.post(refused, {})
        assert (response.status_code, response.url) == (302, f"/admin/login/?next={refused}")


@pytest.mark.parametrize(
    ("variants", "error"),
    [
        ("A, 60, done\nB, 50, done", "The variants' percentages add up to 110, not 100."),
        ("A, 50, done\nB, 40", "The variants' percentages add up to 90, not 100."),
        ("A, 50, done\nA, 50", "Two variants are named A: name each apart."),
        (", 50, done\nB, 50", "Variant #1 has no name."),
        ("A, 100, done", "An A/B split needs at least two variants."),
    ],
)
def test_a_split_not_adding_up_to_100_is_refused_with_a_form_error(
    client, marketer, variants, error
):
    journey = _journey()
    saved, versions = _saved(journey), JourneyVersion.objects.count()
    client.force_login(marketer)
    data = _page_form(client, journey)
    data["steps-1-variants"] = [variants]

    response = client.post(
        reverse("admin:journeys_journey_change", args=[journey.pk]), {**data, "_continue": ["1"]}
    )

    assert response.status_code == 200
    step_form = response.context["inline_admin_formsets"][0].formset.forms[1]
    assert step_form.errors == {"variants": [error]}
    assert _saved(journey) == saved
    assert JourneyVersion.objects.count() == versions


def test_a_split_adding_up_to_100_is_saved_as_given(client, marketer):
    journey = _journey()
    client.force_login(marketer)
    data = _page_form(client, journey)
    data["steps-1-variants"] = ["A, 34, done\nB, 33, pause\nC, 33"]

    response = client.post(
        reverse("admin:journeys_journey_change", args=[journey.pk]), {**data, "_continue": ["1"]}
    )

    assert response.status_code == 302
    shown = journey.version_shown()
    assert shown.steps.get(key="ab").config == {
        "variants": [
            {"name": "A", "percent": 34, "next": "done"},
            {"name": "B", "percent": 33, "next": "pause"},
            {"name": "C", "percent": 33},
        ]
    }


CLICKED = {"step": "text", "is": "clicked"}


def _branch_journey():
    return journey_build(
        steps=[("text", "send_sms", {"template": sms_template().pk, "next": "check"}),
               ("check", "branch", {"condition": {"step_outcome": CLICKED},
                                    "then": "done", "else": "done"}),
               ("done", "exit", {})],
        status=JourneyStatus.DRAFT,
    )  # fmt: skip


def test_a_branch_on_a_messages_outcome_is_picked_not_written_as_json(client, marketer):
    # Given a branch on whether the text was clicked: the page shows it picked
    journey = _branch_journey()
    client.force_login(marketer)
    data = _page_form(client, journey)
    assert (data["steps-1-outcome_step"], data["steps-1-outcome_is"]) == (["text"], ["clicked"])
    assert data["steps-1-condition"] == [""]

    # When the author picks "replied" instead and saves
    data["steps-1-outcome_is"] = ["replied"]
    response = client.post(
        reverse("admin:journeys_journey_change", args=[journey.pk]), {**data, "_continue": ["1"]}
    )

    # Then the draft's branch asks whether the text was replied to
    assert response.status_code == 302
    assert journey.version_shown().steps.get(key="check").config == {
        "condition": {"step_outcome": {"step": "text", "is": "replied"}},
        "then": "done",
        "else": "done",
    }


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        (
            {"steps-1-condition": ['{"rules": {"all": []}}']},
            {"condition": ["Pick the message's outcome above or write a condition, not both."]},
        ),
        (
            {"steps-1-outcome_step": [""]},
            {"outcome_step": ["Choose the step whose message it is."]},
        ),
        (
            {"steps-1-outcome_step": ["no such!"]},
            {"outcome_step": ["A step key has letters, digits, - and _ only."]},
        ),
        (
            {"steps-1-outcome_is": ["read"]},
            {"outcome_is": ["Select a valid choice. read is not one of the available choices."]},
        ),
    ],
)
def test_a_picked_outcome_that_does_not_hold_together_is_refused(client, marketer, given, errors):
    journey = _branch_journey()
    saved = _saved(journey)
    client.force_login(marketer)
    data = {**_page_form(client, journey), **given}

    response = client.post(
        reverse("admin:journeys_journey_change", args=[journey.pk]), {**data, "_continue": ["1"]}
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[1].errors == errors
    assert _saved(journey) == saved


@pytest.mark.parametrize(
    ("variants", "problems"),
    [
        ("A, 50, done\nB, 50, pause", []),
        ("A, 60, done\nB, 50", ["the variants' percentages add up to 110, not 100."]),
        ("A, 100, done", ["an A/B split needs at least two variants."]),
        ("", ["an A/B split needs at least two variants."]),
        ("A, 50\nA, 50", ["two variants are named A: name each apart."]),
        (
            "A, 50.5, done\nB, 49.5",
            ["Line 1: write name, percent, next step — e.g. A, 50, offer_a."],
        ),
    ],
)
def test_a_split_s_problems_come_with_the_drawing_in_the_rule_s_words(
    client, marketer, variants, problems
):
    """The live checks show what the server's one rule says of the variants as they stand
    (split_variants_problems, through the split's activation check), not a copy of it."""
    journey = _journey()
    client.force_login(marketer)
    data = _page_form(client, journey)
    data["steps-1-variants"] = [variants]

    response = client.post(reverse("admin:journeys_journey_diagram", args=[journey.pk]), data)

    assert response.json()["variant_problems"] == {"ab": problems}
