"""Races only a database with row locks can show: run on PostgreSQL."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from apps.routing.models import FollowUpTask, TaskEscalation, TaskNotification, TaskSignal
from apps.routing.services import signal_route, sla_sweep
from tests.factories import ContactFactory
from tests.threads import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks"),
]


@pytest.fixture
def rule(make_rule):
    return make_rule(name="Follow-ups", signal_types=["journey_step"], sla_minutes=15)


def route(contact, key=None):
    return signal_route(
        contact=contact,
        signal_type="journey_step",
        reason="Call",
        context={"key": key} if key else {},
    ).pk


def test_round_robin_stays_fair_when_signals_arrive_together(rule, make_rep):
    reps = [make_rep(name) for name in ("ann", "bob", "cat")]
    contacts = [ContactFactory(owner=None) for _ in range(12)]
    in_threads(12, lambda i: route(contacts[i]))
    owners = Counter(FollowUpTask.objects.values_list("owner__username", flat=True))
    assert owners == {rep.username: 4 for rep in reps}


def test_signals_for_one_contact_arriving_together_make_one_task(rule, sam):
    contact = ContactFactory(owner=sam)
    ids = in_threads(6, lambda i: route(contact, key=f"signal-{i}"))
    assert len(set(ids)) == 1
    assert FollowUpTask.objects.get().signal_count == 6
    assert TaskSignal.objects.count() == 6


def test_the_same_signal_key_racing_itself_is_routed_once(rule, sam):
    contact = ContactFactory(owner=sam)
    ids = in_threads(6, lambda i: route(contact, key="journey:1:call:1"))
    assert len(set(ids)) == 1
    assert (FollowUpTask.objects.get().signal_count, TaskSignal.objects.count()) == (1, 1)


def test_two_sweeps_at_once_escalate_each_breach_once(now, rule, sam, riley, manager):
    for _ in range(20):
        route(ContactFactory(owner=None))
    now.shift(timedelta(minutes=20).total_seconds())
    results = in_threads(4, lambda i: sla_sweep())
    assert sum(result["breached"] for result in results) == 20
    assert TaskEscalation.objects.filter(kind="breach").count() == 20
    assert TaskNotification.objects.filter(kind="breach").count() == 20
