"""The manager's board: the team's open follow-ups grouped by team and rep (the queue as its
own group) with a count per group, filtered by team, rep, priority and SLA state; another
team's tasks never show; reassigning from the board still asks for confirmation."""

from datetime import timedelta

import pytest
from django.test import Client

from apps.routing.models import FollowUpTask, Priority
from apps.routing.services import signal_route, task_take
from tests.factories import ContactFactory, TeamFactory
from tests.routing.conftest import TUESDAY_11_NY

pytestmark = pytest.mark.django_db

NOW = TUESDAY_11_NY


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def routed(make_rule):
    """A task in the team's queue for a new contact; taken by `rep` if given."""
    make_rule(name="Queue", signal_types=["demo_request"], strategy="queue")

    def make(first_name: str, rep=None, **state) -> FollowUpTask:
        contact = ContactFactory(owner=None, first_name=first_name, last_name="Natarajan")
        task = signal_route(
            contact=contact, signal_type="demo_request", reason="Asked for a demo", context={}
        )
        if rep is not None:
            task = task_take(task=task, actor=rep)
        FollowUpTask.objects.filter(pk=task.pk).update(**state)
        return task

    return make


@pytest.fixture
def board(routed, sam, riley):
    """Sam: one breached (past due), one due soon; Riley: one OK, urgent; one in the queue."""
    return {
        "breached": routed(
            "Ada", sam, warn_at=NOW - timedelta(minutes=5), due_at=NOW - timedelta(minutes=1)
        ),
        "due_soon": routed(
            "Bea", sam, warn_at=NOW - timedelta(minutes=1), due_at=NOW + timedelta(minutes=4)
        ),
        "urgent": routed("Cy", riley, priority=Priority.URGENT, due_at=NOW + timedelta(hours=2)),
        "queued": routed("Di", due_at=NOW + timedelta(hours=3)),
    }


def groups_of(response) -> list[tuple[str, str, list[str]]]:
    return [
        (g.team, g.owner, [t.contact.first_name for t in g.tasks])
        for g in response.context["groups"]
    ]


def test_it_groups_the_team_s_tasks_by_rep_with_the_queue_first(board, manager):
    response = signed_in(manager).get("/tasks/")

    assert groups_of(response) == [
        ("East Coast Sales", "Team queue", ["Di"]),
        ("East Coast Sales", "Riley Rep", ["Cy"]),
        ("East Coast Sales", "Sam Rep", ["Ada", "Bea"]),
    ]
    assert [len(g.tasks) for g in response.context["groups"]] == [1, 1, 2]
    assert [g.breached for g in response.context["groups"]] == [0, 0, 1]
    assert b'<span class="count">2</span>' in response.content
    assert b"Due soon" in response.content


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"sla": "breached"}, ["Ada"]),
        ({"sla": "due_soon"}, ["Bea"]),
        ({"sla": "ok"}, ["Cy", "Di"]),
        ({"priority": str(Priority.URGENT)}, ["Cy"]),
        ({"rep": "0"}, ["Di"]),
        ({"sla": "breached", "priority": str(Priority.URGENT)}, []),
    ],
)
def test_it_filters_by_sla_state_priority_and_rep(board, manager, query, shown):
    response = signed_in(manager).get("/tasks/", query)

    names = sorted(t.contact.first_name for g in response.context["groups"] for t in g.tasks)
    assert names == shown


def test_it_filters_by_rep_and_team(board, manager, sam, team):
    by_rep = signed_in(manager).get("/tasks/", {"rep": sam.pk, "team": team.pk})

    assert groups_of(by_rep) == [("East Coast Sales", "Sam Rep", ["Ada", "Bea"])]


def test_a_filter_outside_the_manager_s_teams_is_an_error_not_a_peek(board, manager, make_user):
    other_team = TeamFactory(name="West Coast Sales")

    response = signed_in(manager).get("/tasks/", {"team": other_team.pk, "sla": "late"})

    assert response.status_code == 200
    errors = response.context["board_form"].errors
    assert sorted(errors) == ["sla", "team"]
    assert b"No open follow-ups match" not in response.content
    assert len(response.context["tasks"]) == 4  # unfiltered, with the errors shown


def test_another_team_s_tasks_never_show(board, manager, make_rule, make_user):
    west = TeamFactory(name="West Coast Sales")
    make_rule(name="West", signal_types=["pricing_view"], strategy="queue", team=west, position=1)
    signal_route(
        contact=ContactFactory(first_name="Eve"), signal_type="pricing_view", reason="r", context={}
    )

    response = signed_in(manager).get("/tasks/")

    assert "Eve" not in [t.contact.first_name for g in response.context["groups"] for t in g.tasks]
    assert FollowUpTask.objects.filter(team=west).count() == 1


def test_no_match_says_so(board, manager):
    response = signed_in(manager).get("/tasks/", {"sla": "breached", "rep": "0"})

    assert response.context["groups"] == []
    assert b"No open follow-ups match these filters." in response.content


def test_reassign_from_the_board_asks_for_confirmation_first(board, manager, riley):
    task = board["breached"]
    client = signed_in(manager)
    page = client.get("/tasks/")
    assert f'action="/tasks/{task.pk}/reassign/"'.encode() in page.content

    asked = client.post(f"/tasks/{task.pk}/reassign/", {"owner": riley.pk})

    task.refresh_from_db()
    assert (asked.status_code, asked.templates[0].name) == (200, "routing/reassign_confirm.html")
    assert task.owner.username == "sam"


def test_a_rep_gets_no_board(board, sam):
    response = signed_in(sam).get("/tasks/")

    assert "board_form" not in response.context
    assert sorted(t.contact.first_name for t in response.context["tasks"]) == ["Ada", "Bea"]


def contacts_of(response) -> list[tuple[str, str, list[str]]]:
    return [
        (g.team, g.owner, [t.owner.username if t.owner else "queue" for t in g.tasks])
        for g in response.context["groups"]
    ]


def test_it_groups_by_contact_with_every_rep_who_works_them(board, manager, riley):
    second = board["breached"]  # Ada's task, worked by Sam; Riley works her too
    second.pk, second.owner = None, riley
    second.save()

    response = signed_in(manager).get("/tasks/", {"group_by": "contact"})

    assert contacts_of(response) == [
        ("Ada Natarajan", "Riley Rep, Sam Rep", ["sam", "riley"]),
        ("Bea Natarajan", "Sam Rep", ["sam"]),
        ("Cy Natarajan", "Riley Rep", ["riley"]),
        ("Di Natarajan", "Team queue", ["queue"]),
    ]
    assert b"Ada Natarajan \xc2\xb7 Riley Rep, Sam Rep" in response.content


def test_it_sorts_by_priority_then_due_time(board, manager):
    by_due = signed_in(manager).get("/tasks/", {"group_by": "contact"})
    by_priority = signed_in(manager).get("/tasks/", {"group_by": "contact", "sort": "priority"})

    assert [g.team for g in by_due.context["groups"]][:3] == [
        "Ada Natarajan", "Bea Natarajan", "Cy Natarajan",
    ]  # fmt: skip
    assert [g.team for g in by_priority.context["groups"]] == [
        "Cy Natarajan", "Ada Natarajan", "Bea Natarajan", "Di Natarajan",
    ]  # fmt: skip


def test_it_filters_by_status(board, manager):
    FollowUpTask.objects.filter(pk=board["due_soon"].pk).update(status="in_progress")

    in_progress = signed_in(manager).get("/tasks/", {"status": "in_progress"})
    done = signed_in(manager).get("/tasks/", {"status": "done"})

    assert groups_of(in_progress) == [("East Coast Sales", "Sam Rep", ["Bea"])]
    assert sorted(done.context["board_form"].errors) == ["status"]  # the board is open work
