"""The OpenAPI schema and docs need a signed-in caller unless API_DOCS_PUBLIC is set."""

import pytest
from rest_framework.authtoken.models import Token

from apps.accounts import roles

pytestmark = pytest.mark.django_db


def test_an_anonymous_caller_gets_no_schema(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 401
    assert "openapi" not in response.json()


def test_an_anonymous_browser_is_sent_to_sign_in_for_the_docs(client):
    response = client.get("/api/docs/")

    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/api/docs/")


def test_an_anonymous_browser_gets_no_docs_script_either(client):
    response = client.get("/api/docs/", {"script": ""})

    assert response.status_code == 302
    assert b"SwaggerUIBundle" not in response.content


def test_a_token_reads_the_schema(client, make_user):
    token = Token.objects.create(user=make_user(roles.MARKETER))

    response = client.get(
        "/api/schema/", {"format": "json"}, HTTP_AUTHORIZATION=f"Token {token.key}"
    )

    assert (response.status_code, response.json()["info"]["title"]) == (200, "Cue API")


def test_a_signed_in_user_reads_the_docs_whose_script_is_served_apart(client, make_user):
    client.force_login(make_user(roles.SALES_REP))

    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})

    assert (page.status_code, script.status_code) == (200, 200)
    assert b'<script src="/api/docs/?script="' in page.content
    assert script["Content-Type"] == "application/javascript"
    assert b"SwaggerUIBundle" in script.content


def test_api_docs_public_opens_both_to_anyone(client, settings):
    settings.API_DOCS_PUBLIC = True

    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert (schema.status_code, docs.status_code) == (200, 200)
