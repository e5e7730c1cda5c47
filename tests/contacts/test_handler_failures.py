"""The hand-off's failures are shown to staff, read-only; an admin may have them retried now."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone

from apps.accounts import roles
from apps.contacts import events as events_module
from apps.contacts.events import (
    RETRY_AFTER,
    event_handler_register,
    events_handle,
    events_unhandled_sweep,
    handler_failures_retry_now,
    record_event,
)
from apps.contacts.models import Event, EventHandlerFailure
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/contacts/eventhandlerfailure/"
LAST = EventHandlerFailure.MAX_ATTEMPTS


@pytest.fixture
def flaky():
    """A handler 'test.flaky' failing on the event ids in the yielded set; records its calls."""
    calls: list[int] = []
    fail_on: set[int] = set()

    def handler(events):
        calls.extend(e.pk for e in events)
        if fail_on & {e.pk for e in events}:
            raise RuntimeError("CRM unreachable " + "x" * 300)

    event_handler_register("test.flaky", handler, order=1)
    yield calls, fail_on
    events_module._handlers.pop("test.flaky")


def _failed_event(fail_on, times: int, key: str = "k1") -> Event:
    event = record_event(
        contact=ContactFactory(),
        type="pricing_view",
        occurred_at=timezone.now() - timedelta(minutes=10),
        idempotency_key=key,
    ).event
    Event.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    fail_on.add(event.pk)
    for _ in range(times):
        events_handle(event_ids=[event.pk])
    return event


def _state(event) -> tuple:
    failure = EventHandlerFailure.objects.get(event=event)
    handled = Event.objects.get(pk=event.pk).handled_at is not None
    return failure.attempts, failure.failed_at <= timezone.now() - RETRY_AFTER, handled


def test_retry_now_makes_an_open_failure_due_at_the_next_sweep(flaky):
    # given an event the handler failed on a moment ago: the sweep would wait 5 minutes
    _, fail_on = flaky
    event = _failed_event(fail_on, times=1)
    assert events_unhandled_sweep() == 0
    # when an admin retries it now
    assert handler_failures_retry_now(failure_ids=[EventHandlerFailure.objects.get().pk]) == 1
    # then it is due, its attempts unchanged, and the sweep takes it
    assert _state(event) == (1, True, False)
    assert events_unhandled_sweep() == 1


def test_retry_now_gives_a_given_up_failure_one_more_attempt(
    flaky, django_capture_on_commit_callbacks
):
    # given an event the handler gave up on after its last attempt
    calls, fail_on = flaky
    event = _failed_event(fail_on, times=LAST)
    assert _state(event) == (LAST, False, True)
    # when an admin retries it now, the cause fixed
    handler_failures_retry_now(failure_ids=[EventHandlerFailure.objects.get().pk])
    assert _state(event) == (LAST - 1, True, False)
    fail_on.clear()
    calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert events_unhandled_sweep() == 1
    # then the handler ran once more, succeeded, and the event is done with no failure left
    assert calls == [event.pk]
    assert EventHandlerFailure.objects.count() == 0
    assert Event.objects.get(pk=event.pk).handled_at is not None


def test_a_given_up_failure_retried_and_failing_again_is_given_up_again(flaky):
    _, fail_on = flaky
    event = _failed_event(fail_on, times=LAST)
    handler_failures_retry_now(failure_ids=[EventHandlerFailure.objects.get().pk])

    events_handle(event_ids=[event.pk])

    assert _state(event) == (LAST, False, True)


def test_staff_see_the_failures_with_the_error_cut_short(flaky, make_user, client):
    # given one failure still retried and one given up
    _, fail_on = flaky
    _failed_event(fail_on, times=1, key="open")
    _failed_event(fail_on, times=LAST, key="gone")
    client.force_login(make_user(roles.COMPLIANCE))
    # when Compliance opens the list, all of it and filtered by given up
    everything = client.get(LIST)
    given_up = client.get(LIST, {"given_up": "yes"})
    by_handler = client.get(LIST, {"handler": "journeys"})
    # then both rows show, the error truncated, and no retry action is offered
    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 2
    assert "x" * 200 not in everything.content.decode()
    assert "CRM unreachable" in everything.content.decode()
    assert "retry_now" not in everything.content.decode()
    assert [f.attempts for f in given_up.context["cl"].result_list] == [LAST]
    assert by_handler.context["cl"].result_count == 0


def test_only_an_admin_may_retry_now(flaky, make_user, admin_client):
    _, fail_on = flaky
    event = _failed_event(fail_on, times=1)
    failure = EventHandlerFailure.objects.get()
    compliance = make_user(roles.COMPLIANCE)
    model_admin = site._registry[EventHandlerFailure]
    request = RequestFactory().get(LIST)
    request.user = compliance
    assert "retry_now" not in model_admin.get_actions(request)
    before = _state(event)

    response = admin_client.post(
        LIST, {"action": "retry_now", "_selected_action": [failure.pk]}, follow=True
    )

    assert response.status_code == 200
    assert before == (1, False, False)
    assert _state(event) == (1, True, False)
    assert admin_client.get(f"{LIST}{failure.pk}/change/").status_code == 200
