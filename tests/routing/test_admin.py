"""The routing admin: rules with a dry run, read-only tasks and deliveries; roles; timeline;
the demo workspace."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.accounts import roles
from apps.contacts.selectors import contact_timeline
from apps.routing.models import FollowUpTask, RoutingRule, TaskSignal, TeamCursor
from apps.routing.services import signal_route
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(make_rule, sam):
    make_rule(name="Follow-ups", signal_types=["journey_step"])
    contact = ContactFactory(owner=sam, first_name="Priya", last_name="N", external_id="demo-2")
    return signal_route(contact=contact, signal_type="journey_step", reason="Call", context={})


@pytest.mark.parametrize(
    ("role", "permissions"),
    [
        (roles.SALES_REP, {"view_followuptask", "work_followuptask"}),
        (
            roles.SALES_MANAGER,
            {"view_followuptask", "work_followuptask", "reassign_followuptask"},
        ),
        (roles.MARKETER, set()),
    ],
)
def test_the_roles_hold_the_task_permissions_after_migrate(role, permissions):
    granted = set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="routing", codename__endswith="followuptask")
        .values_list("codename", flat=True)
    )
    assert granted == permissions


def test_the_dry_run_page_shows_the_rule_and_owner_and_changes_nothing(
    admin_client, make_rule, sam
):
    make_rule(name="Interested reply", signal_types=["reply"], intents=["positive"])
    contact = ContactFactory(owner=sam, external_id="demo-2")
    response = admin_client.get(
        "/admin/routing/routingrule/dry-run/",
        {"contact": "demo-2", "signal_type": "reply", "text": "Yes, call me"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rule “Interested reply”: a new task for Sam Rep." in html
    assert "The contact&#x27;s owner." in html
    assert (FollowUpTask.objects.count(), TeamCursor.objects.count()) == (0, 0)
    assert contact.followup_tasks.count() == 0


def test_the_dry_run_page_says_which_contact_it_could_not_find(admin_client):
    response = admin_client.get(
        "/admin/routing/routingrule/dry-run/", {"contact": "nobody", "signal_type": "reply"}
    )
    assert "No contact has that id, external id, email or phone." in response.content.decode()


def test_a_marketer_may_not_open_the_dry_run(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    assert client.get("/admin/routing/routingrule/dry-run/").status_code == 403


def test_an_admin_adds_a_rule_with_ticked_signal_types(admin_client, team):
    response = admin_client.post(
        "/admin/routing/routingrule/add/",
        {
            "name": "Demo requests",
            "position": 5,
            "is_active": "on",
            "signal_types": ["demo_request"],
            "min_confidence": 0,
            "contact_rules": "{}",
            "journey_scope": "any",
            "team": team.pk,
            "strategy": "owner_first",
            "sla_minutes": 10,
            "sla_clock": "clock",
            "warn_at_percent": 80,
            "priority": 1,
            "notify_email": "on",
            "dedupe_window_minutes": 60,
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert (rule.signal_types, rule.intents, rule.history.count()) == (["demo_request"], [], 1)


def test_a_rule_with_broken_contact_conditions_is_refused(admin_client, team):
    response = admin_client.post(
        "/admin/routing/routingrule/add/",
        {
            "name": "Broken",
            "position": 5,
            "min_confidence": 0,
            "contact_rules": '{"all": [{"field": "shoe_size", "op": "eq", "value": 9}]}',
            "journey_scope": "any",
            "team": team.pk,
            "strategy": "owner_first",
            "sla_minutes": 10,
            "sla_clock": "clock",
            "warn_at_percent": 80,
            "priority": 1,
            "dedupe_window_minutes": 60,
        },
    )
    assert response.status_code == 200
    assert RoutingRule.objects.count() == 0
    assert "shoe_size" in response.content.decode()


def test_the_task_admin_lists_and_filters_by_sla_state(admin_client, task):
    for sla in ("", "on_track", "warned", "overdue", "breached", "met"):
        response = admin_client.get("/admin/routing/followuptask/", {"sla": sla} if sla else {})
        assert response.status_code == 200
    assert response.context["cl"].result_count == 0  # "met": nobody touched it yet
    page = admin_client.get("/admin/routing/followuptask/", {"sla": "on_track"})
    assert [t.pk for t in page.context["cl"].result_list] == [task.pk]
    assert admin_client.get(f"/admin/routing/followuptask/{task.pk}/change/").status_code == 200


def test_the_task_timeline_source_puts_tasks_on_the_contact_timeline(task):
    entries = [e for e in contact_timeline(contact=task.contact) if e.kind == "task"]
    assert [(e.title, e.detail) for e in entries] == [("Follow-up task: Call", "Open · Sam Rep")]


def test_the_demo_has_a_rule_per_signal_kind_and_three_open_tasks():
    call_command("seed_demo")
    rules = RoutingRule.objects.order_by("position")
    assert [r.signal_types for r in rules] == [
        ["reply"],
        ["key_link_click"],
        ["demo_request"],
        ["pricing_view"],
        ["journey_step"],
    ]
    demo_tasks = FollowUpTask.objects.filter(signals__key__startswith="demo:").order_by("id")
    assert [(t.contact.external_id, t.status) for t in demo_tasks] == [
        ("demo-2", "open"),
        ("demo-3", "open"),
        ("demo-6", "open"),
    ]
    # The demo request waits in the team queue, urgent: its rule wants a call in 5 minutes
    queued = demo_tasks.get(contact__external_id="demo-6")
    assert (queued.owner, queued.assignment, queued.priority) == (None, "queue", 1)
    call_command("seed_demo")
    assert TaskSignal.objects.filter(key__startswith="demo:").count() == 3


@pytest.mark.parametrize(
    ("role", "changelist", "change", "post"),
    [
        (roles.SALES_REP, 302, 302, 302),  # not staff: sent to the login page
        (roles.SALES_MANAGER, 302, 302, 302),
        (roles.MARKETER, 403, 403, 403),
        (roles.COMPLIANCE, 200, 200, 403),  # reads every task, changes none
        (roles.ADMIN, 200, 200, 403),  # tasks are worked on /tasks/, even by an admin
    ],
)
def test_the_task_admin_opens_exactly_for_the_roles_that_read_tasks(
    client, make_user, task, role, changelist, change, post
):
    client.force_login(make_user(role))
    assert client.get("/admin/routing/followuptask/").status_code == changelist
    assert client.get(f"/admin/routing/followuptask/{task.pk}/change/").status_code == change
    response = client.post(f"/admin/routing/followuptask/{task.pk}/change/", {"status": "done"})
    assert response.status_code == post
    task.refresh_from_db()
    assert task.status == "open"
