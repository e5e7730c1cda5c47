"""/api/v1/templates/…: read templates, write drafts, submit and approve them through the API,
with exactly the admin's rules (a marketer cannot approve, nobody approves their own)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.library.models import MessageTemplate, TemplateApproval, TemplateVersion, VersionStatus
from apps.library.services import version_approve, version_submit
from tests.library.conftest import BODY, LINKS

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    """A client with the user's token, as a team's review tooling would call."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def submitted(template, marketer):
    version = template.versions.get()
    return version_submit(actor=marketer, version=version, notify=False)


def test_it_creates_a_template_with_its_first_draft(marketer):
    response = client_for(marketer).post(
        "/api/v1/templates/",
        {"name": "Demo follow-up", "purpose": "progress", "body": BODY, "links": LINKS},
        format="json",
    )

    assert response.status_code == 201
    template = MessageTemplate.objects.get()
    version = template.versions.get()
    answer = response.json()
    assert (answer["id"], answer["name"], answer["channel"], answer["category"]) == (
        template.pk,
        "Demo follow-up",
        "sms",
        "marketing",
    )
    assert answer["current_version"] is None
    assert answer["open_version"] == {"id": version.pk, "number": 1, "status": "draft"}
    assert [(v["number"], v["status"], v["author"], v["body"]) for v in answer["versions"]] == [
        (1, "draft", "maria", BODY)
    ]


def test_it_answers_bad_template_input_with_field_errors(marketer):
    response = client_for(marketer).post(
        "/api/v1/templates/",
        {"name": "X", "purpose": "spam", "body": "Hi {{ contact.shoe_size }}", "channel": 7},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"purpose", "channel"}
    assert MessageTemplate.objects.count() == 0


def test_it_refuses_an_unknown_placeholder_naming_the_body(marketer):
    response = client_for(marketer).post(
        "/api/v1/templates/",
        {"name": "Shoes", "purpose": "progress", "body": "Hi {{ contact.shoe_size }}"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    assert MessageTemplate.objects.count() == 0


def test_it_refuses_template_creation_to_an_approver(approver):
    response = client_for(approver).post(
        "/api/v1/templates/", {"name": "Mine", "purpose": "remind", "body": BODY}, format="json"
    )

    assert response.status_code == 403
    assert MessageTemplate.objects.count() == 0


def test_it_lists_and_reads_templates_for_every_staff_role(template, compliance, sales_rep):
    listed = client_for(compliance).get("/api/v1/templates/")
    assert listed.status_code == 200
    assert [row["name"] for row in listed.json()] == ["Webinar reminder"]

    one = client_for(compliance).get(f"/api/v1/templates/{template.pk}/")
    assert one.status_code == 200
    assert [v["number"] for v in one.json()["versions"]] == [1]

    assert client_for(sales_rep).get("/api/v1/templates/").status_code == 403
    assert client_for(sales_rep).get(f"/api/v1/templates/{template.pk}/").status_code == 403
    assert APIClient().get("/api/v1/templates/").status_code == 401


def test_it_edits_the_open_draft_and_starts_a_new_one_after_approval(template, marketer, approver):
    api = client_for(marketer)
    first = template.versions.get()
    new_body = BODY.replace("1 hour", "30 minutes")

    edited = api.post(f"/api/v1/templates/{template.pk}/draft/", {"body": new_body}, format="json")

    assert edited.status_code == 200
    assert (edited.json()["id"], edited.json()["body"]) == (first.pk, new_body)
    version_submit(actor=marketer, version=first, notify=False)
    version_approve(actor=approver, version=first, notify=False)

    again = api.post(f"/api/v1/templates/{template.pk}/draft/", {}, format="json")

    assert again.status_code == 200
    assert (again.json()["number"], again.json()["status"], again.json()["body"]) == (
        2,
        "draft",
        new_body,
    )
    first.refresh_from_db()
    assert (first.status, first.body) == (VersionStatus.APPROVED, new_body)


def test_it_refuses_a_draft_to_compliance(template, compliance):
    response = client_for(compliance).post(
        f"/api/v1/templates/{template.pk}/draft/", {"body": "Changed"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "You may not edit templates."}
    assert template.versions.get().body == BODY


def test_it_submits_a_draft_and_an_approver_approves_it(template, marketer, approver):
    version = template.versions.get()

    sent = client_for(marketer).post(f"/api/v1/templates/versions/{version.pk}/submit/")
    assert sent.status_code == 200
    assert sent.json()["status"] == "submitted"

    approved = client_for(approver).post(
        f"/api/v1/templates/versions/{version.pk}/approve/", {"comment": "Good"}, format="json"
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["approvals"] == [
        {
            "reviewer": "alex",
            "decision": "approved",
            "as_role": "approver",
            "comment": "Good",
            "at": approved.json()["approvals"][0]["at"],
        }
    ]
    template.refresh_from_db()
    assert template.current_version_id == version.pk


def test_a_marketers_token_cannot_approve(template, marketer, other_marketer):
    version = submitted(template, marketer)

    response = client_for(other_marketer).post(f"/api/v1/templates/versions/{version.pk}/approve/")

    assert response.status_code == 403
    assert response.json() == {"detail": "You may not review template versions."}
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    assert TemplateApproval.objects.count() == 0


def test_an_author_cannot_approve_their_own_version(make_user):
    author = make_user(roles.ADMIN, username="ada")
    mine = client_for(author).post(
        "/api/v1/templates/",
        {"name": "Mine", "purpose": "remind", "body": BODY, "links": LINKS},
        format="json",
    )
    version = TemplateVersion.objects.get(template_id=mine.json()["id"])
    assert (
        client_for(author).post(f"/api/v1/templates/versions/{version.pk}/submit/").status_code
        == 200
    )

    response = client_for(author).post(f"/api/v1/templates/versions/{version.pk}/approve/")

    assert response.status_code == 403
    assert response.json() == {"detail": "You wrote this version, so someone else must approve it."}
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    assert TemplateApproval.objects.count() == 0


def test_it_refuses_a_submission_that_fails_the_lint_naming_the_field(make_template, marketer):
    template = make_template(name="No opt-out", body="Cue Demo: see you at the webinar.")
    version = template.versions.get()

    response = client_for(marketer).post(f"/api/v1/templates/versions/{version.pk}/submit/")

    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_a_rejection_needs_a_comment(template, marketer, approver):
    version = submitted(template, marketer)
    url = f"/api/v1/templates/versions/{version.pk}/reject/"

    without = client_for(approver).post(url, {}, format="json")
    assert without.status_code == 400
    assert without.json() == {
        "comment": ["Say why you reject this version, so its author can fix it."]
    }

    rejected = client_for(approver).post(url, {"comment": "Too long"}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"


def test_it_answers_404_for_an_unknown_version(approver):
    response = client_for(approver).post("/api/v1/templates/versions/999999/approve/")
    assert response.status_code == 404
