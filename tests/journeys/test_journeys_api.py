"""/api/v1/journeys/…: journeys and their versions with the admin's rules: a draft copied
from the live version, its steps replaced, submitted, approved by someone else, published;
a marketer's token cannot approve or publish (403), an author cannot approve their own
(403), and bad steps are a 400 naming the step and the field."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.journeys.models import JourneyVersion, Step
from apps.journeys.services import enrollment_start
from tests.journeys.builders import journey_build

pytestmark = pytest.mark.django_db

STEPS = [
    {"key": "pause", "kind": "wait", "config": {"hours": 2, "next": "done"}},
    {"key": "done", "kind": "exit", "config": {}},
]


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="mara")


@pytest.fixture
def approver(make_user):
    return make_user(roles.APPROVER, username="alex")


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def live_journey():
    return journey_build(
        steps=[("wait", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )


def draft_id(client, journey) -> int:
    response = client.post(f"/api/v1/journeys/{journey.pk}/draft/", format="json")
    assert response.status_code == 200, response.json()
    return response.json()["id"]


def test_it_has_stable_addresses():
    assert reverse("api:journeys") == "/api/v1/journeys/"
    assert (
        reverse("api:journey-version-publish", args=[7]) == "/api/v1/journeys/versions/7/publish/"
    )


def test_a_change_goes_from_draft_to_live_through_someone_elses_review(
    clock, marketer, approver, opted_in_contact
):
    journey = live_journey()
    running = enrollment_start(journey=journey, contact=opted_in_contact())
    author, reviewer = token_client(marketer), token_client(approver)
    version = draft_id(author, journey)
    base = f"/api/v1/journeys/versions/{version}/"

    replaced = author.put(base + "steps/", {"steps": STEPS, "first_step": "pause"}, format="json")
    assert replaced.status_code == 200, replaced.json()
    assert [(s["key"], s["kind"]) for s in replaced.json()["steps"]] == [
        ("pause", "wait"),
        ("done", "exit"),
    ]
    submitted = author.post(base + "submit/", {"summary": "Wait two hours"}, format="json")
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")
    approved = reviewer.post(base + "approve/", format="json")
    assert (approved.status_code, approved.json()["approver"]) == (200, "alex")
    plan = reviewer.get(base + "publish/")
    assert plan.json() == {
        "from_version": 1,
        "waiting": {"wait": 1},
        "mapping": {},
        "unmapped": ["wait"],
    }
    published = reviewer.post(base + "publish/", {"move_enrollments": False}, format="json")
    assert (published.status_code, published.json()["status"]) == (200, "published")

    journey.refresh_from_db()
    running.refresh_from_db()
    assert journey.live_version_id == version
    assert (running.version.number, running.current_step.key) == (1, "wait")
    detail = author.get(f"/api/v1/journeys/{journey.pk}/").json()
    assert [(v["number"], v["status"]) for v in detail["versions"]] == [
        (2, "published"),
        (1, "retired"),
    ]


def test_a_marketers_token_cannot_approve_publish_or_pause(clock, marketer, make_user):
    journey = live_journey()
    author = token_client(make_user(roles.MARKETER, username="mo"))
    version = draft_id(author, journey)
    author.post(f"/api/v1/journeys/versions/{version}/submit/", format="json")
    other = token_client(marketer)
    for action in ("approve", "publish"):
        response = other.post(f"/api/v1/journeys/versions/{version}/{action}/", format="json")
        assert response.status_code == 403, action
    assert other.post(f"/api/v1/journeys/{journey.pk}/pause/", format="json").status_code == 403
    assert JourneyVersion.objects.get(pk=version).status == "submitted"
    journey.refresh_from_db()
    assert (journey.status, journey.live_version.number) == ("active", 1)


def test_an_author_cannot_approve_their_own_version(clock, make_user):
    admin = make_user(roles.ADMIN, username="ada")
    client = token_client(admin)
    journey = live_journey()
    version = draft_id(client, journey)
    client.post(f"/api/v1/journeys/versions/{version}/submit/", format="json")
    response = client.post(f"/api/v1/journeys/versions/{version}/approve/", format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You wrote this version, so someone else must approve it."
    assert JourneyVersion.objects.get(pk=version).status == "submitted"


def test_bad_steps_are_a_400_naming_the_step_and_the_field(clock, marketer):
    journey = live_journey()
    client = token_client(marketer)
    version = draft_id(client, journey)
    before = list(Step.objects.filter(version_id=version).values_list("key", "config"))
    response = client.put(
        f"/api/v1/journeys/versions/{version}/steps/",
        {
            "steps": [
                {"key": "pause", "kind": "wait", "config": {"hourz": 2}},
                {"key": "send", "kind": "send_fax", "config": {}},
                {"key": "not a slug", "kind": "exit"},
                {"key": "pause", "kind": "exit"},
                "exit",
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "steps.pause.config": ["Not a setting of a wait step: hourz."],
        "steps.send.kind": ['"send_fax" is not a valid choice.'],
        "steps.not a slug.key": [
            'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
        ],
        "steps.pause.key": ["Another step has this key."],
        "steps.#5": ["Give a step as an object with key, kind and config."],
    }
    assert list(Step.objects.filter(version_id=version).values_list("key", "config")) == before


def test_submitting_a_draft_with_problems_names_each_step(clock, marketer):
    journey = live_journey()
    client = token_client(marketer)
    version = draft_id(client, journey)
    client.put(
        f"/api/v1/journeys/versions/{version}/steps/",
        {"steps": [{"key": "pause", "kind": "wait", "config": {"hours": 1, "next": "gone"}}]},
        format="json",
    )
    response = client.post(f"/api/v1/journeys/versions/{version}/submit/", format="json")
    assert response.status_code == 400
    assert response.json() == {
        "steps.pause": ["its \"next\" leads to 'gone', which is not a step of this journey."]
    }
    assert JourneyVersion.objects.get(pk=version).status == "draft"


def test_a_published_version_cannot_be_edited_through_the_api(clock, marketer):
    journey = live_journey()
    response = token_client(marketer).put(
        f"/api/v1/journeys/versions/{journey.live_version_id}/steps/",
        {"steps": STEPS},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": [
            "Version 1 is published: only a draft's steps and settings can be changed. Start "
            "a new draft to change the journey."
        ]
    }


def test_an_approver_pauses_at_once_and_resumes(clock, approver):
    journey = live_journey()
    client = token_client(approver)
    paused = client.post(f"/api/v1/journeys/{journey.pk}/pause/", format="json")
    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    resumed = client.post(f"/api/v1/journeys/{journey.pk}/resume/", format="json")
    assert (resumed.status_code, resumed.json()["status"]) == (200, "active")


def test_the_schema_documents_the_journeys_api(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/journeys/",
        "/api/v1/journeys/{id}/",
        "/api/v1/journeys/{id}/draft/",
        "/api/v1/journeys/versions/{id}/steps/",
        "/api/v1/journeys/versions/{id}/publish/",
    } <= paths
