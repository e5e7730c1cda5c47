"""An email template through /api/v1/templates/: the API takes and returns the HTML part and
the text part under the admin form's rules, asked of one function (library.checks.
content_errors): sanitised when stored, a broken rule a 400 naming its field, the lint at
submission, and an approved version never edited in place."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.library.admin.forms import MessageTemplateForm
from apps.library.models import MessageTemplate, TemplateVersion, VersionStatus
from tests.library.test_email_html import ADDRESS, HTML, LINKS

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def email(**content) -> dict:
    return {
        "name": "Recording", "channel": "email", "purpose": "progress", "subject": "Your recording",
        "links": LINKS, **content,
    }  # fmt: skip


def test_it_creates_an_email_from_its_html_and_derives_the_text(marketer):
    unsafe = HTML.replace("<p>Cue Demo", '<p onclick="steal()">Cue Demo') + "<script>x()</script>"

    response = client_for(marketer).post(URL, email(html=unsafe), format="json")

    assert response.status_code == 201, response.json()
    [version] = response.json()["versions"]
    stored = TemplateVersion.objects.get()
    assert version["html"] == stored.html == HTML
    assert version["body"] == ""
    assert version["text"] == (
        'Hi {{ contact.first_name | "there" }}, the recording is ready.\n\n'
        "Watch it ({link:recording})\n\n"
        f"Cue Demo, {ADDRESS}\n"
        "Unsubscribe ({link:unsubscribe})"
    )


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        (
            {"html": "<style>@import url(https://evil.example/x.css);</style><p>Hi</p>"},
            {"html": ['The <style> block may only style: "@import" is not allowed.']},
        ),
        ({"html": "", "body": ""}, {"body": ["Write the text part, the HTML part, or both."]}),
        (
            {"html": "<p>Hi {{ contact.shoe_size }}</p>"},
            {
                "html": [
                    'Unknown placeholder "{{ contact.shoe_size }}". Known placeholders: '
                    "contact.first_name, contact.last_name, contact.company, company.name, "
                    "owner.first_name, owner.phone, contact.attr.<key>."
                ]
            },
        ),
        (
            {"html": '<p><a href="{link:nowhere}">Go</a></p>'},
            {"html": ['Link "{link:nowhere}" is not declared: add "nowhere" to the links.']},
        ),
    ],
    ids=["unsafe-style", "no-part", "unknown-placeholder", "undeclared-link"],
)
def test_bad_content_is_a_400_naming_the_field_and_the_form_says_the_same(
    marketer, content, errors
):
    response = client_for(marketer).post(URL, email(**content), format="json")
    fields = {
        "name": "Recording", "channel": "email", "purpose": "progress",
        "category": "marketing", "owner": marketer.pk, "subject": "Your recording",
        "links": '{"recording": {"url": "https://example.com/recording", "key": false}}',
        "defaults": "{}", "body": "",
    }  # fmt: skip
    form = MessageTemplateForm(data={**fields, **content})

    assert (response.status_code, response.json()) == (400, errors)
    assert form.errors == errors
    assert MessageTemplate.objects.count() == 0


def test_html_on_a_text_template_is_refused(marketer):
    body = "Cue Demo: hi. Reply STOP to opt out."
    response = client_for(marketer).post(
        URL, {"name": "Hi", "purpose": "remind", "body": body, "html": "<p>Hi</p>"}, format="json"
    )

    assert (response.status_code, response.json()) == (
        400,
        {"html": ["Only an email template has an HTML part."]},
    )
    assert MessageTemplate.objects.count() == 0


def test_a_nul_in_the_html_is_stripped_at_the_edge_not_a_500(marketer):
    response = client_for(marketer).post(URL, email(html="<p>Hi\x00 there</p>"), format="json")

    assert response.status_code == 201
    assert TemplateVersion.objects.get().html == "<p>Hi there</p>"


def test_a_failing_lint_blocks_submission_by_field_then_the_fix_is_approved(marketer, approver):
    made = client_for(marketer).post(
        URL, email(html="<p>Cue Demo: the recording is ready.</p>"), format="json"
    )
    template_id, version_id = made.json()["id"], made.json()["versions"][0]["id"]

    refused = client_for(marketer).post(f"{URL}versions/{version_id}/submit/")
    fixed = client_for(marketer).post(f"{URL}{template_id}/draft/", {"html": HTML}, format="json")
    submitted = client_for(marketer).post(f"{URL}versions/{version_id}/submit/")
    approved = client_for(approver).post(f"{URL}versions/{version_id}/approve/", {}, format="json")

    assert refused.status_code == 400
    assert set(refused.json()) == {"html", "body"}
    assert f'The HTML part must show the postal address: "{ADDRESS}".' in refused.json()["html"]
    assert (fixed.status_code, fixed.json()["id"], fixed.json()["html"]) == (200, version_id, HTML)
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert MessageTemplate.objects.get().current_version_id == version_id


def test_editing_the_approved_html_starts_a_new_draft_and_keeps_the_approved_one(
    marketer, approver
):
    made = client_for(marketer).post(URL, email(html=HTML), format="json").json()
    first = made["versions"][0]["id"]
    client_for(marketer).post(f"{URL}versions/{first}/submit/")
    client_for(approver).post(f"{URL}versions/{first}/approve/", {}, format="json")
    edited = HTML.replace("the recording is ready", "the slides are ready")

    draft = client_for(marketer).post(f"{URL}{made['id']}/draft/", {"html": edited}, format="json")
    submitted = client_for(marketer).post(f"{URL}versions/{first}/submit/")

    assert draft.status_code == 200
    assert (draft.json()["number"], draft.json()["status"], draft.json()["html"]) == (
        2,
        "draft",
        edited,
    )
    approved = TemplateVersion.objects.get(pk=first)
    assert (approved.status, approved.html) == (VersionStatus.APPROVED, HTML)
    assert submitted.status_code == 400  # the approved version is frozen, not submitted again


def test_a_draft_edit_that_leaves_an_email_with_no_part_is_refused(marketer):
    made = client_for(marketer).post(URL, email(html=HTML), format="json").json()

    response = client_for(marketer).post(f"{URL}{made['id']}/draft/", {"html": ""}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"body": ["Write the text part, the HTML part, or both."]},
    )
    assert TemplateVersion.objects.get().html == HTML


def test_the_schema_documents_the_html_and_the_text_part(admin_user):
    client = Client()
    client.force_login(admin_user)
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    assert {"html", "text", "body"} <= set(schemas["TemplateVersion"]["properties"])
    assert schemas["TemplateVersion"]["properties"]["text"]["readOnly"] is True
    for request in ("TemplateCreateRequest", "DraftRequest"):
        assert schemas[request]["properties"]["html"]["type"] == "string"
    assert "body" not in schemas["TemplateCreateRequest"].get("required", [])
