"""Every endpoint of our own OpenAPI schema, fed generated input, authenticated and not:
never a 500, and every answer one the schema documents."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from apps.accounts import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance]


@pytest.fixture
def api_schema(settings):
    settings.API_DOCS_PUBLIC = (
        True  # read anonymously here; tests/core/test_api_docs.py checks the default
    )
    # Like Django's test client: a finished request must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the schema lists no operation"
    return found


def fuzz(operation, headers: dict) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.parametrize("caller", ["token", "anonymous"])
def test_it_never_answers_500_and_documents_every_answer(api_schema, caller):
    headers = {}
    if caller == "token":
        headers = {
            "Authorization": f"Token {Token.objects.create(user=UserFactory(role=roles.ADMIN)).key}"
        }
    failures = []
    for operation in operations(api_schema):
        try:
            fuzz(operation, headers)
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:2000])
    assert failures == []
