"""Reps see their team's queue and take a task from it: the first to take it has it, the
other is told who did; an empty list says why it is empty."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.test import Client

from apps.routing.errors import RoutingError
from apps.routing.models import FollowUpTask
from apps.routing.selectors import empty_list_explained, team_queue
from apps.routing.services import signal_route, task_take
from apps.routing.services.work import task_hand_back
from tests.factories import ContactFactory, TeamFactory
from tests.routing.conftest import TUESDAY_11_NY
from tests.threads import in_threads

pytestmark = pytest.mark.django_db

# Sunday 6 December 2026, 20:00 UTC: 15:00 in New York, outside Mon–Fri 9–17.
SUNDAY_15_NY = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


@pytest.fixture
def queued(make_rule):
    """A task straight into the East Coast Sales queue."""
    make_rule(name="Queue", signal_types=["demo_request"], strategy="queue")

    def make(first_name="Priya"):
        contact = ContactFactory(owner=None, first_name=first_name, last_name="Natarajan")
        return signal_route(
            contact=contact, signal_type="demo_request", reason="Asked for a demo", context={}
        )

    return make


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_rep_sees_the_team_queue_apart_from_their_own_tasks(queued, sam):
    task = queued()
    response = signed_in(sam).get("/tasks/")
    assert [t.pk for t in response.context["tasks"]] == []
    assert [t.pk for t in response.context["queue"]] == [task.pk]
    assert "Waiting in the East Coast Sales queue" in response.content.decode()
    assert (
        response.context["empty_explained"] == "1 task waits in East Coast Sales; take one below."
    )


def test_a_rep_takes_a_queued_task_and_it_is_theirs(queued, sam):
    task = queued()
    response = signed_in(sam).post(f"/tasks/{task.pk}/take/")
    assert (response.status_code, response["Location"]) == (302, f"/tasks/{task.pk}/")
    task.refresh_from_db()
    assert (task.owner, task.assignment, task.status) == (sam, "taken", "open")
    assert task.assignment_note == "Taken from the East Coast Sales queue by Sam Rep."
    assert task.seen_at == TUESDAY_11_NY
    latest = task.history.first()
    assert (latest.history_user, latest.history_change_reason, latest.owner_id) == (
        sam,
        "Taken from the queue by sam",
        sam.pk,
    )
    assert list(team_queue(sam)) == []


def test_the_second_rep_to_take_it_is_told_who_has_it(queued, sam, riley):
    task = queued()
    task_take(task=task, actor=sam)
    response = signed_in(riley).post(f"/tasks/{task.pk}/take/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Sam Rep took this task first."]
    task.refresh_from_db()
    assert task.owner == sam
    assert task.history.count() == 2  # created, taken once


def test_a_rep_of_another_team_cannot_see_or_take_it(queued, make_user):
    from apps.accounts import roles

    outsider = make_user(roles.SALES_REP, username="wes", team=TeamFactory(name="West"))
    task = queued()
    assert signed_in(outsider).post(f"/tasks/{task.pk}/take/").status_code == 404
    assert FollowUpTask.objects.get().owner is None


def test_a_closed_task_is_not_taken(queued, sam, riley):
    task = queued()
    task_take(task=task, actor=sam)
    task.refresh_from_db()
    task_hand_back(task=task, actor=sam)
    task.refresh_from_db()
    FollowUpTask.objects.filter(pk=task.pk).update(status="canceled")
    task.refresh_from_db()
    with pytest.raises(RoutingError) as error:
        task_take(task=task, actor=riley)
    assert error.value.message == "This task is canceled; there is nothing to take."
    assert FollowUpTask.objects.get().owner is None


def test_a_task_a_rep_owns_is_not_taken_by_a_teammate(queued, sam, riley):
    task = queued()
    task_take(task=task, actor=sam)
    task.refresh_from_db()
    with pytest.raises(RoutingError) as error:
        task_take(task=task, actor=riley)
    assert (error.value.code, error.value.message) == ("taken", "Sam Rep took this task first.")
    assert FollowUpTask.objects.get().owner == sam


def test_an_empty_list_at_the_weekend_says_what_waits_and_until_when(now, queued, sam):
    now.move_to(SUNDAY_15_NY)
    queued()
    queued("Dana")
    response = signed_in(sam).get("/tasks/")
    expected = "2 tasks wait in East Coast Sales; you are outside working hours until Mon 09:00."
    assert response.context["empty_explained"] == expected
    assert f"No open follow-ups. {expected}" in response.content.decode()


def test_an_empty_list_with_an_empty_queue_says_so(sam):
    assert (
        empty_list_explained(sam, 0, TUESDAY_11_NY)
        == "Nothing waits in the East Coast Sales queue."
    )
    friday_evening = datetime(2026, 3, 13, 23, 0, tzinfo=UTC)  # 19:00 in New York
    assert empty_list_explained(sam, 0, friday_evening) == (
        "Nothing waits in the East Coast Sales queue; "
        "you are outside working hours until Mon 09:00."
    )


def test_a_rep_in_no_team_is_told_so(make_user):
    from apps.accounts import roles

    loner = make_user(roles.SALES_REP, username="lone", team=None)
    assert empty_list_explained(loner, 0, TUESDAY_11_NY) == (
        "You are in no team, so no queue is yours."
    )


def test_a_manager_sees_queued_tasks_among_the_team_s_not_apart(queued, manager):
    task = queued()
    response = signed_in(manager).get("/tasks/")
    assert [t.pk for t in response.context["tasks"]] == [task.pk]
    assert response.context["queue"] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks")
def test_two_reps_taking_one_task_together_one_wins(queued, sam, riley):
    task = queued()
    reps = [sam, riley] * 3

    def take(i):
        try:
            return task_take(task=task, actor=reps[i]).owner_id
        except RoutingError as error:
            return error.message

    results = in_threads(6, take)
    winner = FollowUpTask.objects.get().owner
    assert results.count(winner.pk) == 1
    assert (
        sorted(r for r in results if r != winner.pk)
        == [f"{winner.display_name} took this task first."] * 5
    )
    assert FollowUpTask.history.filter(history_change_reason__startswith="Taken").count() == 1


def test_a_five_minute_rule_makes_an_urgent_task_due_in_five_minutes(make_rule, sam):
    make_rule(name="Call now", signal_types=["demo_request"], sla_minutes=5, priority=3)
    contact = ContactFactory(owner=sam)
    task = signal_route(contact=contact, signal_type="demo_request", reason="Demo", context={})
    assert (task.priority, task.get_priority_display()) == (1, "Urgent")
    assert task.due_at - task.created_at == timedelta(minutes=5)


def test_a_fifteen_minute_rule_is_at_least_high(make_rule, sam):
    make_rule(name="Soon", signal_types=["demo_request"], sla_minutes=15, priority=4)
    task = signal_route(
        contact=ContactFactory(owner=sam), signal_type="demo_request", reason="Demo", context={}
    )
    assert task.priority == 2
