import pytest
from django.urls import reverse

from apps.accounts import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, make_user):
    """Staff see the details these tests check; anonymous callers only up or down (below)."""
    client.force_login(make_user(roles.COMPLIANCE))
    return client


def test_it_reports_ok_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_it_names_an_unreachable_broker_with_503(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["down"] == ["broker"]
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_it_names_an_unwritable_filesystem_broker(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "missing")}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_it_shows_when_the_worker_was_last_seen(client):
    from apps.core.services import heartbeat_record

    heartbeat_record(name="worker")
    body = client.get(reverse("healthz")).json()
    assert body["worker"]["age_seconds"] <= 1


def test_it_refuses_writes(client):
    assert client.post(reverse("healthz")).status_code == 405


@pytest.mark.parametrize("role", [None, roles.SALES_REP])
def test_it_tells_anyone_but_staff_only_up(client, make_user, role):
    client.logout()
    if role:
        client.force_login(make_user(role))

    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_it_tells_anyone_but_staff_only_down(client, settings):
    client.logout()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (503, {"status": "down"})
