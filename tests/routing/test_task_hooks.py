"""The task-change hook fires from every place a task webhook does: routed, a signal added,
started, replied to, reassigned, handed back, completed with its outcome, and the SLA
sweep's breaches (once for the batch)."""

from datetime import timedelta

import pytest

from apps.consent.hooks import consent_change_hook
from apps.routing.hooks import TaskChange, task_change_hook
from apps.routing.models import FollowUpTask
from apps.routing.services import (
    Completion,
    signal_route,
    sla_sweep,
    task_complete,
    task_hand_back,
    task_reassign,
    task_reply,
    task_start,
)
from tests.factories import ContactFactory
from tests.hooks import hook_recorded
from tests.routing.conftest import TUESDAY_11_NY

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(make_rule):
    return make_rule(name="Follow-ups", signal_types=["journey_step"], sla_minutes=15)


@pytest.fixture
def changes():
    with hook_recorded(task_change_hook) as batches:
        yield batches


def route(contact, reason="Call after the webinar", key=None) -> FollowUpTask:
    return signal_route(
        contact=contact,
        signal_type="journey_step",
        reason=reason,
        context={"key": key} if key else {},
    )


def summary(batches) -> list[list[tuple]]:
    return [[(c.task_id, c.change, c.status, c.outcome, c.reason) for c in b] for b in batches]


def test_it_hands_on_a_routed_task_with_its_owner_and_due_time(rule, sam, changes):
    contact = ContactFactory(owner=sam)
    task = route(contact)
    assert changes == [
        [
            TaskChange(
                task_id=task.pk,
                contact_id=contact.pk,
                change="created",
                reason="Routed by rule Follow-ups",
                status="open",
                outcome="",
                owner_id=sam.pk,
                team_id=sam.team_id,
                priority=task.priority,
                due_at=TUESDAY_11_NY + timedelta(minutes=15),
                completed_at=None,
                at=TUESDAY_11_NY,
            )
        ]
    ]


def test_it_hands_on_a_signal_added_to_the_open_task(rule, sam, changes):
    contact = ContactFactory(owner=sam)
    task = route(contact, key="a")
    route(contact, key="b")
    assert [[(c.task_id, c.change) for c in b] for b in changes] == [
        [(task.pk, "created")],
        [(task.pk, "updated")],
    ]
    assert changes[1][0].reason.startswith("Signal added: ")


def test_it_hands_on_start_and_completion_with_the_outcome(rule, sam, changes):
    task = route(ContactFactory(owner=sam))
    changes.clear()
    task_start(task=task, actor=sam)
    task_start(task=task, actor=sam)  # already started: no change
    task_complete(task=task, actor=sam, completion=Completion(outcome="connected"))
    assert summary(changes) == [
        [(task.pk, "updated", "in_progress", "", "Started by sam")],
        [(task.pk, "completed", "done", "connected", "Completed by sam: Connected")],
    ]
    assert changes[1][0].completed_at == TUESDAY_11_NY


def test_it_hands_on_the_completion_and_the_reps_opt_out_each_once(rule, sam):
    task = route(ContactFactory(owner=sam, phone="+12025550111"))
    with hook_recorded(task_change_hook) as changes, hook_recorded(consent_change_hook) as consent:
        task_complete(
            task=task,
            actor=sam,
            completion=Completion(outcome="not_interested", opt_out_marketing=True),
        )
    assert [[(c.change, c.outcome) for c in b] for b in changes] == [
        [("completed", "not_interested")]
    ]
    assert [[(c.purpose, c.new_status, c.source) for c in b] for b in consent] == [
        [("marketing", "opted_out", "rep_verbal")]
    ]


def test_it_hands_on_a_reassignment_and_a_hand_back(rule, sam, riley, manager, changes):
    task = route(ContactFactory(owner=sam))
    changes.clear()
    task_reassign(task=task, actor=manager, to=riley)
    task.refresh_from_db()
    task_hand_back(task=task, actor=riley)
    assert [[(c.change, c.owner_id) for c in b] for b in changes] == [
        [("updated", riley.pk)],
        [("updated", None)],
    ]


def test_it_hands_on_the_first_touch_of_a_text_reply(rule, sam, opted_in_contact, changes):
    contact = opted_in_contact(owner=sam)
    task = route(contact)
    changes.clear()
    task_reply(task=task, actor=sam, body="Hi, free for a call at 3?", nonce="n1")
    assert summary(changes) == [
        [(task.pk, "updated", "in_progress", "", "Replied by SMS (sam)")],
    ]


def test_it_hands_on_the_sweeps_breaches_in_one_batch(now, rule, sam, changes):
    tasks = [route(ContactFactory(owner=sam)) for _ in range(3)]
    changes.clear()
    now.shift(12 * 60)
    sla_sweep()  # warnings send no webhook and change nothing a CRM shows
    assert changes == []
    now.shift(3 * 60)
    sla_sweep()
    sla_sweep()
    assert summary(changes) == [
        [(t.pk, "updated", "open", "", "SLA breached; escalated") for t in tasks],
    ]
    assert {c.at for c in changes[0]} == {TUESDAY_11_NY + timedelta(minutes=15)}
