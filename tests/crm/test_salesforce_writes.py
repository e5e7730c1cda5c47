"""Cue writing to Salesforce: follow-up tasks, SMS activity, field updates."""

from datetime import UTC, datetime

import pytest

from apps.crm.adapters import (
    CONTACT,
    LEAD,
    ActivityOut,
    CrmError,
    CrmRecordRefused,
    TaskOut,
)
from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_world import adapter_for, at


@pytest.fixture
def fake():
    with FakeSalesforce() as fake:
        yield fake


@pytest.fixture
def adapter(fake):
    return adapter_for(fake, [])


@pytest.fixture
def people(fake):
    rep = fake.create("User", at=at(0), FirstName="Sam", LastName="Rep", Email="sam@example.com")
    contact = fake.create("Contact", at=at(0), LastName="Ng", OwnerId=rep)
    return rep, contact


def follow_up(contact, owner, **changes):
    values = {
        "key": "task:42",
        "contact_record_id": contact,
        "owner_record_id": owner,
        "subject": "Call Ng: clicked pricing",
        "body": "Ng clicked the pricing link in the webinar reminder.",
        "due_at": at(3600),
        "priority": "high",
    }
    return TaskOut(**(values | changes))


def activity(contact, key, **changes):
    values = {
        "key": key,
        "contact_record_id": contact,
        "at": at(10),
        "direction": "outbound",
        "status": "delivered",
        "body": "Your webinar starts in 1 hour",
        "journey": "Webinar",
        "template": "Reminder",
    }
    return ActivityOut(**(values | changes))


def test_a_follow_up_becomes_a_task_for_the_owner(fake, adapter, people):
    rep, contact = people

    task_id = adapter.task_save(follow_up(contact, rep), None)

    task = fake.record("Task", task_id)
    assert {name: task[name] for name in ("WhoId", "OwnerId", "ActivityDate", "Priority")} == {
        "WhoId": contact,
        "OwnerId": rep,
        "ActivityDate": "2026-01-05",
        "Priority": "High",
    }
    assert (task["Subject"], task["Status"], task["IsClosed"]) == (
        "Call Ng: clicked pricing",
        "Not Started",
        False,
    )
    # Cue's key, by which a retry finds a task Salesforce took without confirming it.
    assert task["Description"] == (
        "Ng clicked the pricing link in the webinar reminder.\n\n[Cue task:42]"
    )


@pytest.mark.parametrize(
    ("due_at", "zone", "day"),
    [
        # 23:30 on March 1st in Los Angeles is 07:30 on March 2nd in UTC
        (datetime(2026, 3, 2, 7, 30, tzinfo=UTC), "America/Los_Angeles", "2026-03-01"),
        (datetime(2026, 3, 2, 7, 59, 59, tzinfo=UTC), "America/Los_Angeles", "2026-03-01"),
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "America/Los_Angeles", "2026-03-02"),
        (datetime(2026, 3, 2, 7, 30, tzinfo=UTC), "UTC", "2026-03-02"),
        # 00:30 on March 2nd in Tokyo is still March 1st in UTC
        (datetime(2026, 3, 1, 15, 30, tzinfo=UTC), "Asia/Tokyo", "2026-03-02"),
    ],
)
def test_a_tasks_due_day_is_the_day_where_its_owner_is(fake, adapter, people, due_at, zone, day):
    rep, contact = people

    task_id = adapter.task_save(follow_up(contact, rep, due_at=due_at, time_zone=zone), None)

    assert fake.record("Task", task_id)["ActivityDate"] == day


def test_completing_it_in_cue_updates_the_same_task(fake, adapter, people):
    rep, contact = people
    task_id = adapter.task_save(follow_up(contact, rep), None)

    saved = adapter.task_save(follow_up(contact, rep, completed=True), task_id)

    assert saved == task_id
    assert [task["Id"] for task in fake.records("Task")] == [task_id]
    assert (fake.record("Task", task_id)["Status"], fake.record("Task", task_id)["IsClosed"]) == (
        "Completed",
        True,
    )


def test_a_task_without_owner_goes_to_the_integration_user_and_long_text_is_cut(
    fake, adapter, people
):
    _, contact = people

    task_id = adapter.task_save(follow_up(contact, None, subject="x" * 300), None)

    task = fake.record("Task", task_id)
    assert task["OwnerId"] == fake.integration_user_id
    assert task["Subject"] == "x" * 255


def test_a_task_for_a_deleted_contact_is_refused_and_nothing_is_created(fake, adapter, people):
    rep, contact = people
    fake.delete("Contact", contact, at=at(5))

    with pytest.raises(CrmRecordRefused, match="INVALID_CROSS_REFERENCE_KEY"):
        adapter.task_save(follow_up(contact, rep), None)

    assert fake.records("Task") == []


def test_updating_a_task_deleted_in_salesforce_is_refused(fake, adapter, people):
    rep, contact = people
    task_id = adapter.task_save(follow_up(contact, rep), None)
    fake.delete("Task", task_id, at=at(5))

    with pytest.raises(CrmRecordRefused, match="ENTITY_IS_DELETED"):
        adapter.task_save(follow_up(contact, rep, completed=True), task_id)


def test_sms_activity_is_logged_in_one_composite_call_with_a_refused_record(fake, adapter, people):
    _, contact = people
    lead = fake.create("Lead", at=at(0), LastName="Li", Company="Acme")
    fake.validation_rule_add(
        "Task", "Subject", "SMS failed (outbound): Webinar · Reminder", message="No failures here"
    )
    batch = [
        activity(contact, "message:1:delivered"),
        activity(contact, "message:2:failed", status="failed"),
        activity(lead, "message:3:replied", direction="inbound", status="replied", journey=""),
    ]

    results = adapter.activities_log(batch)

    sms = {task["Id"]: task for task in fake.created_by_cue("Task")}
    assert [(result.key, result.error) for result in results] == [
        ("message:1:delivered", ""),
        ("message:2:failed", "FIELD_CUSTOM_VALIDATION_EXCEPTION: No failures here"),
        ("message:3:replied", ""),
    ]
    assert results[1].record_id is None
    assert set(sms) == {results[0].record_id, results[2].record_id}
    first = sms[results[0].record_id]
    assert (first["Type"], first["Status"], first["WhoId"]) == ("SMS", "Completed", contact)
    assert first["Subject"] == "SMS delivered (outbound): Webinar · Reminder"
    assert first["Description"].splitlines() == [
        "Your webinar starts in 1 hour",
        "",
        "Journey: Webinar",
        "Template: Reminder",
        "At: 2026-01-05T12:00:10+00:00",
        "[Cue message:1:delivered]",
    ]
    assert sms[results[2].record_id]["Subject"] == "SMS replied (inbound): Reminder"
    composite = [request for request in fake.requests if "/composite/sobjects" in request.path]
    assert len(composite) == 1


def test_activity_batches_are_split_at_salesforces_limit_of_200(fake, adapter, people):
    _, contact = people
    batch = [activity(contact, f"message:{number}:sent") for number in range(450)]

    results = adapter.activities_log(batch)

    assert [result.key for result in results] == [item.key for item in batch]
    assert all(result.record_id and not result.error for result in results)
    composite = [request for request in fake.requests if "/composite/sobjects" in request.path]
    assert [len(request.body["records"]) for request in composite] == [200, 200, 50]


def test_an_empty_activity_batch_calls_nobody(fake, adapter):
    assert adapter.activities_log([]) == []
    assert fake.requests == []


def test_consent_write_back_updates_the_mapped_field(fake, adapter, people):
    _, contact = people
    fake.field_add("Contact", "SMS_Opt_Out__c", "boolean")

    adapter.record_update(CONTACT, contact, {"SMS_Opt_Out__c": True})

    assert fake.record("Contact", contact)["SMS_Opt_Out__c"] is True


def test_a_refused_field_update_changes_nothing(fake, adapter, people):
    _, contact = people
    lead = fake.create("Lead", at=at(0), LastName="Li", Company="Acme")
    fake.validation_rule_add("Lead", "HasOptedOutOfEmail", True, message="Locked by legal")

    with pytest.raises(CrmRecordRefused, match="FIELD_CUSTOM_VALIDATION_EXCEPTION: Locked"):
        adapter.record_update(LEAD, lead, {"HasOptedOutOfEmail": True})
    with pytest.raises(CrmRecordRefused, match="INVALID_FIELD: No such column 'Nope__c'"):
        adapter.record_update(CONTACT, contact, {"Nope__c": 1})

    assert fake.record("Lead", lead)["HasOptedOutOfEmail"] is None
    assert fake.record("Lead", lead)["SystemModstamp"] == "2026-01-05T12:00:00.000+0000"


def test_a_write_to_an_object_type_salesforce_lacks_is_an_error(adapter):
    with pytest.raises(CrmError, match="no object type 'ticket'"):
        adapter.record_update("ticket", "x", {"a": 1})
