"""POST /webhooks/crm/hubspot/: HubSpot's signed change notifications queue one sync; an
unsigned, tampered or stale call changes nothing."""

import pytest
from django.core.cache import cache

from apps.crm.models import SyncRun

pytestmark = pytest.mark.django_db
PATH = "/webhooks/crm/hubspot/"


@pytest.fixture(autouse=True)
def signed_by(settings, hubspot):
    settings.HUBSPOT_WEBHOOK_SECRET = hubspot.webhook_secret
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    cache.clear()
    return hubspot


def post(client, body: bytes, headers: dict):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.generic("POST", PATH, body, content_type="application/json", **extra)


def notification(hubspot, **signing):
    events = [hubspot.webhook_event("contact.propertyChange", "51", property_name="email")]
    return hubspot.signed_webhook(f"https://cue.example.com{PATH}", events, **signing)


def test_a_signed_notification_queues_one_sync_after_commit(
    client, hubspot, django_capture_on_commit_callbacks
):
    body, headers = notification(hubspot)
    with django_capture_on_commit_callbacks() as callbacks:
        first = post(client, body, headers)
        second = post(client, *notification(hubspot))

    assert first.status_code == second.status_code == 200
    assert first.json() == {"received": 1, "sync_queued": True}
    assert second.json() == {"received": 1, "sync_queued": False}  # one sync reads both
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body + b" ", headers),
        lambda body, headers: (body, {**headers, "X-HubSpot-Signature-v3": "AAAA"}),
        lambda body, headers: (body, {k: v for k, v in headers.items() if "Signature" not in k}),
    ],
    ids=["body changed", "signature forged", "signature missing"],
)
def test_a_call_hubspot_did_not_sign_changes_nothing(
    client, hubspot, tamper, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, *tamper(*notification(hubspot)))
    assert response.status_code == 401
    assert callbacks == [] and not SyncRun.objects.exists()


def test_a_call_older_than_five_minutes_is_refused(client, hubspot):
    stale = hubspot.now_ms() - 5 * 60 * 1000 - 1
    assert post(client, *notification(hubspot, timestamp_ms=stale)).status_code == 401


def test_a_client_that_keeps_failing_is_turned_away_for_the_minute(client, hubspot, settings):
    settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE = 2
    body, headers = notification(hubspot)
    forged = {**headers, "X-HubSpot-Signature-v3": "AAAA"}
    assert [post(client, body, forged).status_code for _ in range(3)] == [401, 401, 429]
    assert post(client, body, headers).status_code == 429  # even a good one, for the minute


def test_a_signed_body_that_is_not_an_array_is_a_400(client, hubspot):
    body, headers = hubspot.signed_webhook(f"https://cue.example.com{PATH}", {"not": "a list"})
    assert post(client, body, headers).status_code == 400
