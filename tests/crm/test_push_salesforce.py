"""Cue → Salesforce through the real simple-salesforce client and the fake Salesforce: a
follow-up task becomes one Salesforce Task for its owner, completing it on either side
completes it on the other, SMS outcomes land on the person as Tasks of type SMS, and a
consent change is written to the mapped field of the Lead or Contact."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.accounts import roles
from apps.consent.services import Evidence, consent_opt_out
from apps.contacts.models import ContactExternalId
from apps.crm.connections import adapter_for
from apps.crm.models import CrmOwner, FieldMapping, OutboxItem
from apps.crm.push.push import outbox_push
from apps.crm.sync.engine import sync_in
from apps.routing.models import FollowUpTask, RoutingRule
from apps.routing.services import signal_route
from apps.routing.services.work import Completion, task_complete
from apps.sends.hooks import message_outcomes_fire
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory, TeamFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTHING_DUE = {"sent": 0, "failed": 0, "deferred": 0}


@pytest.fixture
def rep(make_user):
    return make_user(roles.SALES_REP, email="rep@example.com")


@pytest.fixture
def rep_user(salesforce, rep):
    """The rep as a Salesforce User that Cue has matched (as a sync of Users does)."""
    user_id = salesforce.create("User", at=T0, FirstName="Rae", LastName="Rep", Email=rep.email)
    CrmOwner.objects.create(system="salesforce", record_id=user_id, email=rep.email, user=rep)
    return user_id


def known(salesforce, rep, sobject: str = "Contact", phone: str = "+14155550101"):
    """A Cue contact that Salesforce knows as a Contact (or a Lead), its id stored."""
    values = {"LastName": "Lovelace", "Email": f"ada.{sobject.lower()}@acme.test"}
    if sobject == "Lead":
        values["Company"] = "Acme"
    record_id = salesforce.create(sobject, at=T0, **values)
    contact = ContactFactory(owner=rep, email=values["Email"], phone=phone)
    ContactExternalId.objects.create(contact=contact, source="salesforce", value=record_id)
    return contact, record_id


@pytest.fixture
def ada(salesforce, rep, rep_user):
    return known(salesforce, rep)


def push() -> dict:
    return outbox_push(system="salesforce", adapter=adapter_for("salesforce"))


@pytest.fixture
def rule(db) -> RoutingRule:
    """Routing's rule for a journey step's signal: a high-priority follow-up in 15 minutes."""
    return RoutingRule.objects.create(
        name="Follow-ups", position=10, team=TeamFactory(name="East"), sla_minutes=15,
        sla_clock="clock", signal_types=["journey_step"], priority=2,
    )  # fmt: skip


def route(contact) -> FollowUpTask:
    return signal_route(
        contact=contact, signal_type="journey_step", reason="Asked for a call", context={}
    )


def follow_ups(salesforce) -> list[dict]:
    return [t for t in salesforce.created_by_cue("Task") if t["Type"] != "SMS"]


def test_a_follow_up_becomes_one_salesforce_task_for_its_owner(
    salesforce, ada, rep_user, rule, django_capture_on_commit_callbacks
):
    contact, record_id = ada
    with django_capture_on_commit_callbacks() as callbacks:
        task = route(contact)
    assert callbacks, "the push is queued after commit"
    item = OutboxItem.objects.get()
    assert (item.system, item.kind, item.key) == ("salesforce", "task", f"task:{task.pk}")

    assert push()["sent"] == 1
    assert push() == NOTHING_DUE

    [written] = salesforce.created_by_cue("Task")
    assert written["Subject"] == "Cue follow-up: Asked for a call"
    assert (written["WhoId"], written["OwnerId"]) == (record_id, rep_user)
    # The day it is due where its owner is
    owner_zone = ZoneInfo(contact.owner.time_zone)
    assert written["ActivityDate"] == task.due_at.astimezone(owner_zone).date().isoformat()
    assert (written["Priority"], written["Status"]) == ("High", "Not Started")
    assert OutboxItem.objects.get().record_id == written["Id"]


def test_a_follow_up_pushed_again_after_a_lost_answer_updates_the_same_task(salesforce, ada, rule):
    contact, _ = ada
    route(contact)
    push()
    # The row is due again (as after a crash before it was marked sent): it keeps the id.
    OutboxItem.objects.update(status="pending")

    assert push()["sent"] == 1

    assert len(salesforce.created_by_cue("Task")) == 1


def test_completing_the_task_in_cue_completes_the_same_salesforce_task(salesforce, ada, rule, rep):
    contact, _ = ada
    task = route(contact)
    push()

    task_complete(task=task, actor=rep, completion=Completion(outcome="connected"))
    assert push()["sent"] == 1

    [written] = salesforce.created_by_cue("Task")
    assert (written["Status"], written["IsClosed"]) == ("Completed", True)
    assert "Outcome: connected" in written["Description"]


def test_completing_it_in_salesforce_completes_it_in_cue_at_the_next_sync(salesforce, ada, rule):
    contact, _ = ada
    task = route(contact)
    push()
    [written] = salesforce.created_by_cue("Task")
    salesforce.complete_task(written["Id"])

    run = sync_in(adapter=adapter_for("salesforce"))

    assert run.status == "succeeded", run.error
    assert run.counts["task"]["updated"] == 1
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "connected")
    assert task.history.first().history_change_reason.startswith("Completed in salesforce")
    again = sync_in(adapter=adapter_for("salesforce"), full=True)
    assert again.counts["task"]["updated"] == 0
    push()  # Cue tells Salesforce what it already knows: the same Task, nothing new
    assert len(salesforce.created_by_cue("Task")) == 1


def test_a_task_closed_in_cue_first_keeps_cues_outcome(salesforce, ada, rule, rep):
    contact, _ = ada
    task = route(contact)
    push()
    [written] = salesforce.created_by_cue("Task")
    task_complete(task=task, actor=rep, completion=Completion(outcome="left_voicemail"))
    salesforce.complete_task(written["Id"])  # before Cue's completion reached Salesforce

    run = sync_in(adapter=adapter_for("salesforce"))

    assert run.counts["task"]["unchanged"] == 1
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "left_voicemail")


def test_nothing_is_owed_for_a_contact_salesforce_does_not_know(salesforce, rule, rep):
    route(ContactFactory(owner=rep, phone="+14155550102"))
    assert not OutboxItem.objects.exists()


def test_a_delivered_sms_is_a_task_of_type_sms_on_the_person(salesforce, ada):
    contact, record_id = ada
    message = OutboundMessage.objects.create(
        contact=contact, to_address=str(contact.phone), body="Your demo is at 3pm",
        category="marketing", origin="journey", send_key="k1", status="delivered",
        delivered_at=T0,
    )  # fmt: skip
    message_outcomes_fire([message.pk])

    assert push()["sent"] == 1
    assert push() == NOTHING_DUE

    [activity] = salesforce.created_by_cue("Task")
    assert (activity["Type"], activity["WhoId"], activity["Status"]) == (
        "SMS", record_id, "Completed",
    )  # fmt: skip
    assert activity["Subject"].startswith("SMS delivered (outbound)")
    assert "Your demo is at 3pm" in activity["Description"]
    assert follow_ups(salesforce) == []


@pytest.mark.parametrize(
    ("zone", "delivered_at", "activity_date"),
    [
        # 21:30 in New York, the business zone by default, is already the 3rd in UTC
        ("", datetime(2026, 3, 3, 2, 30, tzinfo=UTC), "2026-03-02"),
        ("", datetime(2026, 3, 3, 5, 30, tzinfo=UTC), "2026-03-03"),
        # an org in Tokyo: 00:30 on the 3rd there is still the 2nd in UTC
        ("Asia/Tokyo", datetime(2026, 3, 2, 15, 30, tzinfo=UTC), "2026-03-03"),
        ("Asia/Tokyo", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), "2026-03-02"),
    ],
)
def test_an_sms_activity_is_dated_the_day_it_happened_in_the_orgs_zone(
    salesforce, ada, settings, zone, delivered_at, activity_date
):
    settings.SALESFORCE_TIME_ZONE = zone
    settings.CUE_ROUTING_BUSINESS_HOURS = {
        **settings.CUE_ROUTING_BUSINESS_HOURS,
        "time_zone": "America/New_York",
    }
    contact, _ = ada
    message = OutboundMessage.objects.create(
        contact=contact, to_address=str(contact.phone), body="See you at 9", category="marketing",
        origin="journey", send_key="k1", status="delivered", delivered_at=delivered_at,
    )  # fmt: skip
    message_outcomes_fire([message.pk])

    assert push()["sent"] == 1

    [activity] = salesforce.created_by_cue("Task")
    assert activity["ActivityDate"] == activity_date


# Consent written back


def opt_out_written_to(salesforce, crm_field: str, object_types=("lead", "contact")) -> None:
    for object_type in object_types:
        salesforce.field_add(object_type.capitalize(), crm_field, "boolean")
        FieldMapping.objects.create(
            system="salesforce", object_type=object_type, crm_field=crm_field,
            cue_field="consent.sms_opt_out", direction="out",
        )  # fmt: skip


def opt_out(contact) -> None:
    consent_opt_out(
        contact=contact, channel="sms", purpose="marketing", source="keyword",
        evidence=Evidence(keyword="STOP"),
    )  # fmt: skip


@pytest.mark.parametrize("sobject", ["Contact", "Lead"])
def test_an_opt_out_is_written_to_the_mapped_field_of_the_lead_or_contact(
    salesforce, rep, rep_user, sobject
):
    opt_out_written_to(salesforce, "SMS_Opt_Out__c")
    contact, record_id = known(salesforce, rep, sobject)

    opt_out(contact)
    item = OutboxItem.objects.get()
    assert (item.kind, item.payload["opted_out"]) == ("consent", True)

    assert push()["sent"] == 1

    assert salesforce.record(sobject, record_id)["SMS_Opt_Out__c"] is True


def test_each_object_gets_only_the_field_mapped_on_it(salesforce, rep, rep_user):
    """A Lead's opt-out field and a Contact's may have different names; neither object
    is sent the other's field (Salesforce would refuse a field the object does not have)."""
    salesforce.field_add("Lead", "Lead_SMS_Opt_Out__c", "boolean")
    salesforce.field_add("Contact", "SMS_Opt_Out__c", "boolean")
    for object_type, crm_field in (("lead", "Lead_SMS_Opt_Out__c"), ("contact", "SMS_Opt_Out__c")):
        FieldMapping.objects.create(
            system="salesforce", object_type=object_type, crm_field=crm_field,
            cue_field="consent.sms_opt_out", direction="out",
        )  # fmt: skip
    lead_person, lead = known(salesforce, rep, "Lead", phone="+14155550111")
    contact_person, contact = known(salesforce, rep, "Contact", phone="+14155550112")

    opt_out(lead_person)
    opt_out(contact_person)

    assert push() == {"sent": 2, "failed": 0, "deferred": 0}
    assert salesforce.record("Lead", lead)["Lead_SMS_Opt_Out__c"] is True
    assert salesforce.record("Contact", contact)["SMS_Opt_Out__c"] is True


def test_a_consent_change_is_owed_only_when_a_mapping_writes_it(salesforce, rep, rep_user):
    salesforce.field_add("Contact", "SMS_Opt_Out__c", "boolean")
    FieldMapping.objects.create(
        system="salesforce", object_type="contact", crm_field="SMS_Opt_Out__c",
        cue_field="consent.sms_opt_out", direction="in",
    )  # fmt: skip
    contact, record_id = known(salesforce, rep)

    opt_out(contact)

    assert not OutboxItem.objects.exists()
    assert salesforce.record("Contact", record_id)["SMS_Opt_Out__c"] is None


@pytest.mark.parametrize(
    ("zone", "day"), [("America/Los_Angeles", "2026-03-01"), ("America/New_York", "2026-03-02")]
)
def test_a_follow_up_is_due_on_the_day_where_its_owner_is(salesforce, ada, rule, rep, zone, day):
    # Given a rep in `zone` and a follow-up due at 23:30 on March 1st in Los Angeles
    rep.time_zone = zone
    rep.save(update_fields=["time_zone"])
    contact, _ = ada
    with time_machine.travel(datetime(2026, 3, 2, 7, 15, tzinfo=UTC), tick=False):
        task = route(contact)
    assert task.due_at == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)

    push()

    [written] = follow_ups(salesforce)
    assert written["ActivityDate"] == day


def test_a_follow_up_without_an_owner_is_due_on_the_businesss_day(settings, ada):
    from apps.crm.push.push import _owner_time_zone

    settings.CUE_ROUTING_BUSINESS_HOURS = {"time_zone": "Asia/Tokyo"}

    assert (_owner_time_zone(None), _owner_time_zone(ada[0].owner_id)) == (
        "Asia/Tokyo",
        "America/New_York",
    )
