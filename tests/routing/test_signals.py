"""Events handed off by contacts become follow-up tasks: once per event, one open task per
contact and reason, the owner told at once."""

from datetime import timedelta

import pytest
from django.core import mail

from apps.contacts.events import events_handle
from apps.contacts.models import Event
from apps.routing.models import FollowUpTask, TaskNotification, TaskSignal
from apps.sends.models import OutboundMessage
from tests.routing.conftest import TUESDAY_11_NY, reply

pytestmark = pytest.mark.django_db


def test_it_turns_an_interested_reply_into_a_task_for_the_owner(
    now, hand_off, reply_rule, sam, contact_of
):
    # Given a contact owned by Sam, who is working (11:00 in New York)
    contact = contact_of(owner=sam, first_name="Priya", last_name="Natarajan")
    # When she replies with intent
    event = reply(hand_off, contact, "yes call me tomorrow", journey_id=7)
    # Then one task is Sam's, due in 15 minutes, with a reason a person can act on
    task = FollowUpTask.objects.get()
    assert (task.contact, task.owner, task.rule, task.status, task.assignment) == (
        contact,
        sam,
        reply_rule,
        "open",
        "owner",
    )
    assert task.reason == "Replied “yes call me tomorrow” by SMS"
    assert (task.signal_type, task.intent, task.journey_id) == ("reply", "positive", 7)
    assert (task.created_at, task.warn_at, task.due_at) == (
        TUESDAY_11_NY,
        TUESDAY_11_NY + timedelta(minutes=12),
        TUESDAY_11_NY + timedelta(minutes=15),
    )
    signal = TaskSignal.objects.get()
    assert (signal.key, signal.event_id, signal.intent) == (
        f"event:{event.pk}",
        event.pk,
        "positive",
    )


def test_it_names_the_template_the_contact_replied_to(
    hand_off, reply_rule, sam, contact_of, approved_message
):
    contact = contact_of(owner=sam)
    message = approved_message(contact, template_name="Webinar reminder")
    reply(hand_off, contact, "Interested!", message_id=message.pk)
    assert FollowUpTask.objects.get().reason == "Replied “Interested!” to Webinar reminder"


def test_it_tells_the_owner_by_email_at_once_and_by_sms_when_they_want_it(
    now, hand_off, reply_rule, make_rep, contact_of, settings
):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    rep = make_rep("sam", phone="+12025550105", sms_alerts=True, email="sam@example.com")
    contact = contact_of(owner=rep, first_name="Priya", last_name="N")
    reply(hand_off, contact, "Yes, can someone call me?")
    task = FollowUpTask.objects.get()
    notification = TaskNotification.objects.get()
    assert (notification.kind, notification.recipient, notification.sent_at) == (
        "assigned",
        rep,
        TUESDAY_11_NY,
    )
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]
    assert (
        mail.outbox[0].subject
        == "New follow-up: Priya N — Replied “Yes, can someone call me?” by SMS"
    )
    assert f"https://cue.example.com/tasks/{task.pk}/" in mail.outbox[0].body
    sms = OutboundMessage.objects.get(origin="notification")
    assert (sms.recipient_user, sms.to_address, sms.send_key, sms.category) == (
        rep,
        "+12025550105",
        f"task-notify:{task.pk}:{notification.pk}",
        "notification",
    )
    assert sms.body.startswith("Cue: New follow-up: Priya N — Replied")


def test_it_sends_no_sms_to_a_rep_who_turned_alerts_off(hand_off, reply_rule, sam, contact_of):
    reply(hand_off, contact_of(owner=sam), "Yes")
    assert len(mail.outbox) == 1
    assert OutboundMessage.objects.count() == 0


def test_it_routes_each_event_once_when_the_hand_off_runs_twice(
    hand_off, reply_rule, sam, contact_of
):
    # Given a reply routed once
    event = reply(hand_off, contact_of(owner=sam), "Call me")
    # When the hand-off runs again for it (the worker died before marking it handled)
    Event.objects.filter(pk=event.pk).update(handled_at=None)
    events_handle(event_ids=[event.pk])
    # Then nothing new: one task, one signal, one notification, one email
    assert (FollowUpTask.objects.count(), TaskSignal.objects.count()) == (1, 1)
    assert TaskNotification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_it_appends_a_new_signal_to_the_open_task_for_the_same_reason(
    now, hand_off, reply_rule, sam, contact_of
):
    contact = contact_of(owner=sam)
    reply(hand_off, contact, "Yes")
    first = FollowUpTask.objects.get()
    FollowUpTask.objects.filter(pk=first.pk).update(seen_at=TUESDAY_11_NY)
    now.shift(600)
    reply(hand_off, contact, "Tuesday 10am works")
    task = FollowUpTask.objects.get()
    assert (task.pk, task.signal_count, task.seen_at) == (first.pk, 2, None)
    assert list(task.signals.values_list("reason", flat=True)) == [
        "Replied “Yes” by SMS",
        "Replied “Tuesday 10am works” by SMS",
    ]
    assert task.due_at == first.due_at  # the SLA still runs from the first signal
    assert TaskNotification.objects.count() == 1  # no second alert for the same follow-up


def test_it_opens_a_new_task_once_the_window_has_passed(now, hand_off, make_rule, sam, contact_of):
    make_rule(signal_types=["reply"], intents=["positive"], dedupe_window_minutes=60)
    contact = contact_of(owner=sam)
    reply(hand_off, contact, "Yes")
    now.shift(61 * 60)
    reply(hand_off, contact, "Yes, call me")
    assert FollowUpTask.objects.filter(contact=contact, status="open").count() == 2


def test_it_opens_a_new_task_when_the_earlier_one_is_done(hand_off, reply_rule, sam, contact_of):
    contact = contact_of(owner=sam)
    reply(hand_off, contact, "Yes")
    FollowUpTask.objects.update(status="done", outcome="connected")
    reply(hand_off, contact, "Call me again")
    assert list(FollowUpTask.objects.order_by("id").values_list("status", flat=True)) == [
        "done",
        "open",
    ]


def test_a_different_reason_lands_on_the_contact_s_open_task(
    now, hand_off, reply_rule, make_rule, sam, contact_of
):
    make_rule(name="Demo", signal_types=["demo_request"], position=20, sla_minutes=5)
    contact = contact_of(owner=sam)
    reply(hand_off, contact, "Yes")
    now.shift(60)
    hand_off(contact, "demo_request", {"form": "contact-sales"})
    task = FollowUpTask.objects.get()
    assert list(task.signals.values_list("reason", flat=True)) == [
        "Replied “Yes” by SMS",
        "Requested a demo (contact-sales)",
    ]
    # The 5-minute rule makes it urgent, due 5 minutes after the demo request
    assert (task.signal_count, task.priority, task.sla_minutes) == (2, 1, 5)
    assert task.due_at == TUESDAY_11_NY + timedelta(minutes=6)


@pytest.mark.parametrize("body", ["Not interested", "No thanks", "Thanks", "Hi"])
def test_it_creates_nothing_for_a_reply_no_rule_wants(hand_off, reply_rule, sam, contact_of, body):
    reply(hand_off, contact_of(owner=sam), body)
    assert FollowUpTask.objects.count() == 0
    assert TaskNotification.objects.count() == 0
    assert mail.outbox == []


def test_it_follows_a_key_link_click_but_not_an_ordinary_one(hand_off, make_rule, sam, contact_of):
    make_rule(signal_types=["key_link_click"])
    contact = contact_of(owner=sam)
    hand_off(contact, "sms_click", {"link": "pricing", "key_link": False, "message_id": None})
    assert FollowUpTask.objects.count() == 0
    hand_off(contact, "sms_click", {"link": "book", "key_link": True, "message_id": None})
    assert FollowUpTask.objects.get().reason == "Clicked “book” in an SMS"


def test_it_follows_a_pricing_view_only_while_intent_is_high(
    hand_off, make_rule, sam, contact_of, settings
):
    make_rule(signal_types=["pricing_view"])
    settings.INTENT_HIGH_SCORE = 20
    from apps.contacts.models import EventWeight

    EventWeight.objects.create(type="pricing_view", weight=12, half_life_days=7)
    contact = contact_of(owner=sam)
    hand_off(contact, "pricing_view", {"page": "/pricing"})  # score 12: not high yet
    assert FollowUpTask.objects.count() == 0
    hand_off(contact, "pricing_view", {"page": "/pricing/enterprise"})  # 24: high
    task = FollowUpTask.objects.get()
    assert task.reason == "Viewed pricing (/pricing/enterprise) with high intent"


def test_it_routes_a_reply_in_a_journey_by_a_journey_only_rule(
    hand_off, make_rule, sam, contact_of
):
    make_rule(name="Journey replies", signal_types=["reply"], journey_scope="in_journey")
    contact = contact_of(owner=sam)
    reply(hand_off, contact, "Not interested")  # outside any journey: no rule applies
    assert FollowUpTask.objects.count() == 0
    reply(hand_off, contact, "Not interested", journey_id=12)
    task = FollowUpTask.objects.get()
    assert (task.intent, task.journey_id, task.rule.name) == ("negative", 12, "Journey replies")


def test_it_uses_the_first_matching_rule_in_order(hand_off, make_rule, sam, riley, contact_of):
    make_rule(name="Later", position=20, signal_types=["reply"], priority=3)
    make_rule(name="First", position=10, signal_types=["reply"], priority=1)
    reply(hand_off, contact_of(owner=sam), "Yes")
    task = FollowUpTask.objects.get()
    assert (task.rule.name, task.priority) == ("First", 1)


def test_it_checks_the_contact_against_the_rule_segment(hand_off, make_rule, sam, contact_of):
    make_rule(
        signal_types=["reply"],
        contact_rules={"all": [{"field": "lifecycle_stage", "op": "in", "value": ["sql"]}]},
    )
    reply(hand_off, contact_of(owner=sam, lifecycle_stage="lead"), "Yes")
    assert FollowUpTask.objects.count() == 0
    reply(hand_off, contact_of(owner=sam, lifecycle_stage="sql"), "Yes")
    assert FollowUpTask.objects.count() == 1


def test_it_skips_a_reply_whose_confidence_is_too_low(hand_off, make_rule, sam, contact_of):
    make_rule(signal_types=["reply"], intents=["positive"], min_confidence=0.8)
    contact = contact_of(owner=sam)
    reply(hand_off, contact, "ok")  # positive, 0.5
    assert FollowUpTask.objects.count() == 0
    reply(hand_off, contact, "ok, call me")
    assert FollowUpTask.objects.count() == 1


@pytest.mark.parametrize("body", ["STOP", "stop texting me"])
def test_a_stop_never_reaches_routing(text_in, reply_rule, sam, contact_of, body):
    contact = contact_of(owner=sam)
    assert text_in(contact, body).status_code == 200
    assert contact.consent_states.get(purpose="marketing").status == "opted_out"
    assert FollowUpTask.objects.count() == 0


def test_a_signed_inbound_reply_becomes_a_task(text_in, reply_rule, sam, contact_of):
    contact = contact_of(owner=sam)
    assert text_in(contact, "Yes, can someone call me?").status_code == 200
    task = FollowUpTask.objects.get()
    assert (task.owner, task.reason, task.intent) == (
        sam,
        "Replied “Yes, can someone call me?” by SMS",
        "positive",
    )


def test_routing_listens_on_the_contacts_hand_off():
    from apps.contacts.events import event_handlers
    from apps.routing.handoff import routing_on_events

    assert event_handlers()["routing.signals"] is routing_on_events
