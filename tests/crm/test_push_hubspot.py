"""Cue → HubSpot through the real client and the fake HubSpot: a follow-up task becomes a
HubSpot task for its owner exactly once, completing it on either side completes it on the
other, SMS outcomes land on the contact's timeline, and a CRM that says wait is waited for."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from apps.accounts import roles
from apps.contacts.models import ContactExternalId
from apps.crm.connections import adapter_for
from apps.crm.models import CrmOwner, OutboxItem, RecordError
from apps.crm.push.push import outbox_push
from apps.crm.services import record_error_retry
from apps.crm.sync.engine import sync_in
from apps.routing.models import FollowUpTask, RoutingRule
from apps.routing.services import signal_route
from apps.routing.services.work import Completion, task_complete
from apps.sends.hooks import message_outcomes_fire
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory, TeamFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_rule(db):
    """A routing rule of a team, as routing's own tests make them."""

    def make(**fields) -> RoutingRule:
        values = {"position": 10, "team": TeamFactory(), "sla_minutes": 15, "sla_clock": "clock"}
        return RoutingRule.objects.create(**{**values, **fields})

    return make


@pytest.fixture
def rep(make_user):
    return make_user(roles.SALES_REP, email="rep@example.com")


@pytest.fixture
def known(hubspot, rep):
    """A contact HubSpot knows (its id stored) and whose owner is a HubSpot owner."""
    hubspot.owner_add(rep.email, "Rae", "Rep", owner_id="501")
    record_id = hubspot.record_add("contacts", {"email": "ada@acme.test"}, modified_at=T0)
    contact = ContactFactory(owner=rep, email="ada@acme.test", phone="+14155550101")
    ContactExternalId.objects.create(contact=contact, source="hubspot", value=record_id)
    CrmOwner.objects.create(system="hubspot", record_id="501", email=rep.email, user=rep)
    return contact, record_id


def push() -> dict:
    return outbox_push(system="hubspot", adapter=adapter_for("hubspot"))


def route(contact, make_rule) -> FollowUpTask:
    make_rule(name="Follow-ups", signal_types=["journey_step"])
    return signal_route(
        contact=contact, signal_type="journey_step", reason="Asked for a call", context={}
    )


def test_a_follow_up_becomes_one_hubspot_task_for_its_owner(
    hubspot, known, make_rule, django_capture_on_commit_callbacks
):
    contact, record_id = known
    with django_capture_on_commit_callbacks() as callbacks:
        task = route(contact, make_rule)
    assert callbacks, "the push is queued after commit"
    item = OutboxItem.objects.get()
    assert (item.kind, item.key, item.status) == ("task", f"task:{task.pk}", "pending")

    assert push()["sent"] == 1
    assert push() == {"sent": 0, "failed": 0, "deferred": 0}

    tasks = hubspot.records("tasks")
    assert len(tasks) == 1
    written = tasks[0]
    assert written["properties"]["hs_task_subject"] == "Cue follow-up: Asked for a call"
    assert written["properties"]["hubspot_owner_id"] == "501"
    assert written["associations"]["contacts"] == [record_id]
    assert OutboxItem.objects.get().record_id == written["id"]


def test_completing_the_task_in_cue_completes_the_same_hubspot_task(hubspot, known, make_rule, rep):
    contact, _ = known
    task = route(contact, make_rule)
    push()

    task_complete(task=task, actor=rep, completion=Completion(outcome="connected"))
    assert push()["sent"] == 1

    tasks = hubspot.records("tasks")
    assert len(tasks) == 1
    assert tasks[0]["properties"]["hs_task_status"] == "COMPLETED"


def test_completing_it_in_hubspot_completes_it_in_cue_at_the_next_sync(hubspot, known, make_rule):
    contact, _ = known
    task = route(contact, make_rule)
    push()
    hubspot_task = hubspot.records("tasks")[0]["id"]
    hubspot.record_modify("tasks", hubspot_task, {"hs_task_status": "COMPLETED"})

    sync_in(adapter=adapter_for("hubspot"))

    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "connected")
    assert task.history.first().history_change_reason.startswith("Completed in hubspot")


def test_nothing_is_owed_for_a_contact_hubspot_does_not_know(hubspot, make_rule, rep):
    route(ContactFactory(owner=rep, phone="+14155550102"), make_rule)
    assert not OutboxItem.objects.exists()


def test_nothing_is_owed_when_no_crm_is_connected(no_crm, make_rule, rep):
    contact = ContactFactory(owner=rep, phone="+14155550103")
    ContactExternalId.objects.create(contact=contact, source="hubspot", value="77")
    route(contact, make_rule)
    assert not OutboxItem.objects.exists()


def test_a_delivered_sms_lands_on_the_contacts_hubspot_timeline(hubspot, known):
    contact, record_id = known
    message = OutboundMessage.objects.create(
        contact=contact, to_address=str(contact.phone), body="Your demo is at 3pm",
        category="marketing", origin="journey", send_key="k1", status="delivered",
        delivered_at=T0,
    )  # fmt: skip
    message_outcomes_fire([message.pk])

    assert push()["sent"] == 1

    [communication] = hubspot.records("communications")
    assert communication["properties"]["hs_communication_channel_type"] == "SMS"
    assert "Your demo is at 3pm" in communication["properties"]["hs_communication_body"]
    assert communication["associations"]["contacts"] == [record_id]


def test_a_crm_that_says_wait_is_waited_for_and_nothing_is_lost(hubspot, known, make_rule):
    contact, _ = known
    route(contact, make_rule)
    hubspot.rate_limit(times=1, retry_after=30)  # longer than Cue waits in one go

    counts = push()

    assert counts == {"sent": 0, "failed": 0, "deferred": 1}
    item = OutboxItem.objects.get()
    assert item.status == "pending" and item.next_attempt_at > timezone.now()
    assert hubspot.records("tasks") == []
    assert (item.next_attempt_at - timezone.now()).total_seconds() > 25  # as HubSpot said

    OutboxItem.objects.update(next_attempt_at=timezone.now())  # the wait is over
    assert push()["sent"] == 1
    assert len(hubspot.records("tasks")) == 1


def test_a_task_hubspot_refuses_is_kept_with_its_error_and_retried(hubspot, known, make_rule):
    contact, _ = known
    task = route(contact, make_rule)
    OutboxItem.objects.update(payload={**OutboxItem.objects.get().payload, "priority": "odd"})

    assert push()["failed"] == 1

    error = RecordError.objects.get(direction="out")
    assert error.record_id == f"task:{task.pk}" and "priority" in error.error
    OutboxItem.objects.update(payload={**OutboxItem.objects.get().payload, "priority": "high"})
    assert record_error_retry(error=error) is True
    assert push()["sent"] == 1
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_erasing_the_person_scrubs_what_cue_owed_hubspot_about_them(hubspot, known, admin_user):
    from apps.contacts.erasure.services import contact_erase

    contact, record_id = known
    message = OutboundMessage.objects.create(
        contact=contact, to_address=str(contact.phone), body="Ada, your demo is at 3pm",
        category="marketing", origin="journey", send_key="k2", status="delivered",
        delivered_at=T0,
    )  # fmt: skip
    message_outcomes_fire([message.pk])
    RecordError.objects.create(
        system="hubspot", direction="in", object_type="contact", record_id=record_id,
        error="Taken without: phone", record={"properties": {"email": "ada@acme.test"}},
        last_failed_at=T0,
    )  # fmt: skip

    contact_erase(contact=contact, actor=admin_user, reason="Data-subject request 7")

    payload = OutboxItem.objects.get().payload
    assert "Ada" not in str(payload) and "3pm" not in str(payload)
    error = RecordError.objects.get()
    assert (error.record, "ada@" in error.error) == ({}, False)


def test_a_task_create_hubspot_took_but_never_confirmed_is_not_made_twice(
    hubspot, known, make_rule, settings
):
    contact, _ = known
    route(contact, make_rule)
    settings.CRM_TIMEOUT_SECONDS = 0.3
    hubspot.delay_next(1.5)  # the create lands, its answer comes too late

    assert push() == {"sent": 0, "failed": 0, "deferred": 1}
    assert len(hubspot.records("tasks")) == 1
    OutboxItem.objects.update(next_attempt_at=timezone.now())

    assert push()["sent"] == 1

    [task] = hubspot.records("tasks")
    assert OutboxItem.objects.get().record_id == task["id"]


def _delivered(contact, send_key: str, at: datetime) -> OutboundMessage:
    return OutboundMessage.objects.create(
        contact=contact, to_address=str(contact.phone), body="Your demo is at 3pm",
        category="marketing", origin="journey", send_key=send_key, status="delivered",
        delivered_at=at,
    )  # fmt: skip


def test_an_sms_activity_batch_hubspot_took_but_never_confirmed_is_logged_once(
    hubspot, known, settings
):
    # Given two delivered SMS whose batch create lands in HubSpot, its answer too late
    contact, _ = known
    first, second = _delivered(contact, "k1", T0), _delivered(contact, "k2", T0)
    message_outcomes_fire([first.pk, second.pk])
    settings.CRM_TIMEOUT_SECONDS = 0.3
    hubspot.delay_next(1.5)
    assert push() == {"sent": 0, "failed": 0, "deferred": 2}
    assert hubspot.record_count("communications") == 2

    # When the push is retried, with a third SMS at the same moment not yet logged
    third = _delivered(contact, "k3", T0)
    message_outcomes_fire([third.pk])
    OutboxItem.objects.update(next_attempt_at=timezone.now())
    assert push() == {"sent": 3, "failed": 0, "deferred": 0}

    # Then each SMS is on the timeline exactly once
    logged = [c["object_write_trace_id"] for c in hubspot.records("communications")]
    assert sorted(logged) == sorted(OutboxItem.objects.values_list("key", flat=True))
    assert len(logged) == 3
    creates = [r for r in hubspot.requests if r.path.endswith("/communications/batch/create")]
    assert [len(r.body["inputs"]) for r in creates] == [2, 1]


def test_a_first_attempt_logs_without_looking_first(hubspot, known):
    contact, _ = known
    message_outcomes_fire([_delivered(contact, "k1", T0).pk])

    assert push()["sent"] == 1

    assert [r.path for r in hubspot.requests if r.path.endswith("/search")] == []
