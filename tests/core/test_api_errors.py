"""The API's one error mapping: a lost database is a 503 the client can retry, not a 500."""

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient

from apps.contacts.api import views
from apps.contacts.models import Event
from apps.core.api.errors import DATABASE_UNAVAILABLE
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("terminating connection due to administrator command"),
        InterfaceError("connection already closed"),
    ],
)
def test_it_answers_503_asking_to_retry_when_the_database_connection_is_lost(
    admin_user, monkeypatch, error
):
    # Given a database that drops the connection while the events are stored
    def lost(**kwargs):
        raise error

    monkeypatch.setattr(views, "events_intake", lost)
    client = APIClient()
    client.force_authenticate(admin_user)

    # When a client posts an event
    response = client.post(
        "/api/v1/events/",
        {
            "type": "pricing_view",
            "occurred_at": "2026-03-10T16:00:00+00:00",
            "idempotency_key": "retry-me",
            "contact": {"id": ContactFactory().pk},
        },
        format="json",
    )

    # Then it is told to send the same request again, and nothing was stored
    assert (response.status_code, response.json()) == (503, DATABASE_UNAVAILABLE)
    assert response["Retry-After"] == "5"
    assert Event.objects.count() == 0
