"""With SALESFORCE_TASK_KEY_FIELD, Cue's writes are upserts by its own key: repeated
after a timeout or a crash, they find what the first one made."""

import pytest

from apps.crm.adapters import ActivityOut, CrmRecordRefused, TaskOut
from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_world import adapter_for, at

KEY_FIELD = "Cue_Key__c"


@pytest.fixture
def fake():
    with FakeSalesforce() as fake:
        fake.field_add("Task", KEY_FIELD, "string", length=80, external_id=True)
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def contact(fake):
    return fake.create("Contact", at=at(0), LastName="Ng")


def follow_up(contact, **changes):
    values = {
        "key": "task:42",
        "contact_record_id": contact,
        "owner_record_id": None,
        "subject": "Call Ng",
        "body": "Clicked pricing",
        "due_at": at(3600),
        "priority": "high",
    }
    return TaskOut(**(values | changes))


def sms(contact, key):
    return ActivityOut(key, contact, at(10), "outbound", "delivered", "Hi", "Webinar", "Reminder")


def test_a_task_created_twice_by_key_is_one_task(fake, sleeps, contact):
    adapter = adapter_for(fake, sleeps, task_key_field=KEY_FIELD)

    first = adapter.task_save(follow_up(contact), None)
    again = adapter.task_save(follow_up(contact, subject="Call Ng today"), None)

    assert again == first
    (task,) = fake.created_by_cue("Task")
    assert (task["Id"], task[KEY_FIELD], task["Subject"]) == (first, "task:42", "Call Ng today")


def test_a_keyed_create_that_timed_out_is_repeated_and_still_makes_one_task(fake, sleeps, contact):
    adapter = adapter_for(fake, sleeps, task_key_field=KEY_FIELD, timeout=0.5)
    adapter.changes("contact", None, page_size=1)  # logged in
    fake.delay_next(2.0, times=1)  # Salesforce creates the task; Cue hears nothing in time

    task_id = adapter.task_save(follow_up(contact), None)

    assert [task["Id"] for task in fake.created_by_cue("Task")] == [task_id]
    assert sleeps == [1.0]


def test_sms_activity_logged_twice_by_key_is_logged_once(fake, sleeps, contact):
    adapter = adapter_for(fake, sleeps, task_key_field=KEY_FIELD)
    batch = [sms(contact, "message:1:delivered"), sms(contact, "message:2:delivered")]

    first = adapter.activities_log(batch)
    again = adapter.activities_log(batch)

    assert [result.record_id for result in again] == [result.record_id for result in first]
    assert sorted(task[KEY_FIELD] for task in fake.created_by_cue("Task")) == [
        "message:1:delivered",
        "message:2:delivered",
    ]
    upserts = [r for r in fake.requests if r.path.endswith(f"/composite/sobjects/Task/{KEY_FIELD}")]
    assert [r.method for r in upserts] == ["PATCH", "PATCH"]


def test_a_key_field_that_is_not_an_external_id_is_refused_and_nothing_is_made(
    fake, sleeps, contact
):
    fake.field_add("Task", "Plain__c", "string", length=80)
    adapter = adapter_for(fake, sleeps, task_key_field="Plain__c")

    with pytest.raises(CrmRecordRefused, match="Provided external ID field does not exist"):
        adapter.task_save(follow_up(contact), None)
    results = adapter.activities_log([sms(contact, "message:1:sent")])

    assert results[0].record_id is None
    assert results[0].error.startswith("NOT_FOUND: Provided external ID field")
    assert fake.records("Task") == []
