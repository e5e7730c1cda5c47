"""Outbound CRM webhooks: signed JSON POSTs to a real HTTP server, retried with backoff."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.routing.models import WebhookDelivery, WebhookEndpoint
from apps.routing.services import signal_route, webhook_signature, webhooks_due_sweep
from apps.routing.services.webhooks import webhook_event_enqueue
from tests.factories import ContactFactory
from tests.routing.conftest import TUESDAY_11_NY

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(webhook_receiver):
    return WebhookEndpoint.objects.create(
        name="CRM",
        url=webhook_receiver.url,
        secret=webhook_receiver.secret,
        events=["task.created", "signal.received", "task.completed"],
    )


@pytest.fixture
def route(make_rule, sam, django_capture_on_commit_callbacks):
    make_rule(signal_types=["journey_step"])

    def signal(contact=None, key=None):
        with django_capture_on_commit_callbacks(execute=True):
            return signal_route(
                contact=contact or ContactFactory(owner=sam, external_id="crm-42"),
                signal_type="journey_step",
                reason="Asked for a call",
                context={"key": key} if key else {},
            )

    return signal


def test_it_signs_the_body_with_hmac_sha256_over_timestamp_and_body():
    body = b'{"event":"task.created"}'
    # The same as: echo -n '1773154800.{"event":"task.created"}' | openssl dgst -sha256 -hmac s3cret
    assert webhook_signature("s3cret", 1773154800, body) == (
        "t=1773154800,v1=6374c337896550d3a010442f26e798f83ea33389c2e0cfa9c01a48f92d564043"
    )


def test_it_posts_task_created_and_the_signal_signed_to_the_endpoint(
    route, endpoint, webhook_receiver, sam
):
    task = route()
    received = webhook_receiver.received
    assert [(r["event"], r["verified"]) for r in received] == [
        ("task.created", True),
        ("signal.received", True),
    ]
    created = received[0]["body"]
    assert (created["event"], created["id"]) == ("task.created", f"task.created:{task.pk}")
    assert created["data"]["contact"]["external_id"] == "crm-42"
    assert (created["data"]["owner"]["username"], created["data"]["reason"]) == (
        "sam",
        "Asked for a call",
    )
    assert created["data"]["due_at"] == (TUESDAY_11_NY + timedelta(minutes=15)).isoformat()
    log = list(
        WebhookDelivery.objects.order_by("id").values_list("status", "attempts", "response_code")
    )
    assert list(log) == [("delivered", 1, 200), ("delivered", 1, 200)]


def test_it_retries_a_failed_delivery_with_backoff_until_it_succeeds(
    now, route, endpoint, webhook_receiver
):
    # Given the CRM answers 500 first
    webhook_receiver.codes = [500]
    endpoint.events = ["task.created"]
    endpoint.save()
    route()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500: ok"
    assert delivery.next_attempt_at == TUESDAY_11_NY + timedelta(seconds=30)
    # When the sweep runs before the backoff has passed, nothing is sent
    now.shift(29)
    assert webhooks_due_sweep() == 0
    assert len(webhook_receiver.received) == 1
    # Then once it has passed, the retry succeeds
    now.shift(1)
    assert webhooks_due_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.last_error) == (
        "delivered",
        2,
        200,
        "",
    )
    assert delivery.delivered_at == TUESDAY_11_NY + timedelta(seconds=30)
    assert [r["body"]["id"] for r in webhook_receiver.received] == [delivery.key, delivery.key]
    assert webhooks_due_sweep() == 0


def test_the_backoff_doubles_and_the_delivery_gives_up_after_the_last_attempt(
    now, route, endpoint, webhook_receiver, settings
):
    settings.CUE_WEBHOOK_MAX_ATTEMPTS = 4
    webhook_receiver.codes = [500, 502, 503, 500]
    endpoint.events = ["task.created"]
    endpoint.save()
    route()
    delivery = WebhookDelivery.objects.get()
    waits = []
    for _ in range(3):
        delivery.refresh_from_db()
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        waits.append(wait)
        now.shift(wait)
        webhooks_due_sweep()
    delivery.refresh_from_db()
    assert waits == [30, 60, 120]
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 4, 500)
    assert delivery.next_attempt_at is None
    now.shift(3600)
    assert webhooks_due_sweep() == 0
    assert len(webhook_receiver.received) == 4


def test_an_unreachable_endpoint_is_logged_and_retried(route, endpoint):
    endpoint.url = "http://127.0.0.1:9/nothing-listens-here"
    endpoint.events = ["task.created"]
    endpoint.save()
    route()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert delivery.last_error.startswith("URLError: ")


def test_it_sends_only_the_events_an_active_endpoint_subscribed_to(
    route, endpoint, webhook_receiver
):
    WebhookEndpoint.objects.create(
        name="Off", url=webhook_receiver.url, events=["task.created"], is_active=False
    )
    endpoint.events = ["task.completed"]
    endpoint.save()
    route()
    assert WebhookDelivery.objects.count() == 0
    assert webhook_receiver.received == []


def test_an_event_recorded_twice_is_delivered_once(endpoint, webhook_receiver):
    for _ in range(2):
        webhook_event_enqueue(event="task.created", key="task.created:99", data={"id": 99})
    assert WebhookDelivery.objects.count() == 1


def test_a_repeated_signal_key_posts_nothing_new(route, endpoint, webhook_receiver):
    contact = ContactFactory()
    route(contact, key="journey:1:call:1")
    route(contact, key="journey:1:call:1")
    assert len(webhook_receiver.received) == 2  # task.created and signal.received, once


def test_a_breach_is_posted_as_task_updated(
    now, route, endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    from apps.routing.services import sla_sweep

    endpoint.events = ["task.updated"]
    endpoint.save()
    task = route()
    now.shift(20 * 60)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    [update] = webhook_receiver.received
    assert (update["event"], update["verified"], update["body"]["id"]) == (
        "task.updated",
        True,
        f"task.updated:{task.pk}:breach",
    )
    assert (
        update["body"]["data"]["breached_at"] == (TUESDAY_11_NY + timedelta(minutes=20)).isoformat()
    )
