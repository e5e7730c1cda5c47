"""What Cue writes to HubSpot: tasks, SMS communications and fields, against the fake."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.crm.adapters import (
    CONTACT,
    DEAL,
    OWNER,
    ActivityOut,
    CrmRecordRefused,
    CrmUnavailable,
    FieldInfo,
    PipelineInfo,
    TaskOut,
    WriteResult,
)
from apps.crm.testing.fake_hubspot import FakeHubSpot, PropertyDefinition
from tests.crm.hubspot_world import adapter_for, at


@pytest.fixture
def fake():
    with FakeHubSpot() as fake:
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def adapter(fake, sleeps):
    return adapter_for(fake, sleeps)


@pytest.fixture
def contact(fake):
    return fake.record_add("contacts", {"email": "lead@example.com"}, modified_at=at(0))


@pytest.fixture
def owner(fake):
    return fake.owner_add("rep@example.com", "Rita", "Rep")


def follow_up(contact, owner, **changes):
    fields = {
        "key": "task:42",
        "contact_record_id": contact,
        "owner_record_id": owner,
        "subject": "Call back: asked for pricing",
        "body": "Replied YES to the webinar reminder.",
        "due_at": at(3_600),
        "priority": "high",
    }
    return TaskOut(**(fields | changes))


def sms(contact, key, **changes):
    fields = {
        "key": key,
        "contact_record_id": contact,
        "at": at(60),
        "direction": "outbound",
        "status": "delivered",
        "body": "Your demo is tomorrow at 10.",
        "journey": "Demo reminder",
        "template": "demo-reminder v3",
    }
    return ActivityOut(**(fields | changes))


def test_a_task_is_created_for_the_owner_on_the_contact(fake, adapter, contact, owner):
    task_id = adapter.task_save(follow_up(contact, owner), None)

    (task,) = fake.records("tasks")
    assert task["id"] == task_id
    assert task["associations"] == {"contacts": [contact]}
    assert (
        task["properties"].items()
        >= {
            "hs_task_subject": "Call back: asked for pricing",
            # Cue's key, by which a retry finds a task HubSpot took without confirming it.
            "hs_task_body": "Replied YES to the webinar reminder.\n\n[Cue task:42]",
            "hs_task_priority": "HIGH",
            "hs_task_status": "NOT_STARTED",
            "hs_task_type": "TODO",
            "hs_timestamp": "2026-01-05T13:00:00.000Z",
            "hubspot_owner_id": owner,
        }.items()
    )
    create = next(r for r in fake.requests if r.path == "/crm/v3/objects/tasks")
    assert create.body["associations"] == [
        {
            "to": {"id": contact},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
        }
    ]


def test_saving_a_task_again_with_its_id_updates_it_and_creates_none(fake, adapter, contact, owner):
    task_id = adapter.task_save(follow_up(contact, owner), None)

    again = adapter.task_save(follow_up(contact, owner, subject="Call back today"), task_id)
    done = adapter.task_save(follow_up(contact, owner, completed=True), task_id)

    assert again == done == task_id
    assert fake.record_count("tasks") == 1
    task = fake.record("tasks", task_id)
    assert task["properties"]["hs_task_status"] == "COMPLETED"
    assert task["properties"]["hs_task_subject"] == "Call back: asked for pricing"
    assert "hs_task_completion_date" in task["properties"]


def test_an_update_never_reopens_a_task_completed_in_hubspot(fake, adapter, contact, owner):
    task_id = adapter.task_save(follow_up(contact, owner), None)
    fake.record_modify("tasks", task_id, {"hs_task_status": "COMPLETED"})

    adapter.task_save(follow_up(contact, None, priority="low"), task_id)

    properties = fake.record("tasks", task_id)["properties"]
    assert properties["hs_task_status"] == "COMPLETED"
    assert properties["hs_task_priority"] == "LOW"
    assert properties["hubspot_owner_id"] == owner


def test_a_task_without_owner_is_created_unassigned(fake, adapter, contact):
    task_id = adapter.task_save(follow_up(contact, None, priority="normal"), None)

    properties = fake.record("tasks", task_id)["properties"]
    assert "hubspot_owner_id" not in properties
    assert properties["hs_task_priority"] == "MEDIUM"


def test_due_times_in_any_zone_are_sent_in_utc(fake, adapter, contact):
    due = at(0).astimezone(ZoneInfo("America/Chicago")) + timedelta(hours=2)

    task_id = adapter.task_save(follow_up(contact, None, due_at=due), None)

    assert fake.record("tasks", task_id)["properties"]["hs_timestamp"] == "2026-01-05T14:00:00.000Z"


def test_a_task_for_an_unknown_owner_is_refused_with_hubspots_reason(fake, adapter, contact):
    with pytest.raises(CrmRecordRefused, match="INVALID_OWNER_ID"):
        adapter.task_save(follow_up(contact, "999"), None)

    assert fake.records("tasks") == []


def test_a_task_for_a_deleted_task_id_is_refused(fake, adapter, contact):
    with pytest.raises(CrmRecordRefused, match="not found"):
        adapter.task_save(follow_up(contact, None), "424242")

    assert fake.records("tasks") == []


def test_an_unknown_priority_is_refused_before_any_call(fake, adapter, contact):
    with pytest.raises(CrmRecordRefused, match="priority"):
        adapter.task_save(follow_up(contact, None, priority="urgent"), None)

    assert fake.requests == []


def test_sms_activities_are_logged_in_one_batch_each_on_its_contact(fake, adapter, contact):
    other = fake.record_add("contacts", {"email": "b@example.com"}, modified_at=at(0))

    results = adapter.activities_log(
        [sms(contact, "message:7:delivered"), sms(other, "message:8:sent", status="sent")]
    )

    created = {c["object_write_trace_id"]: c for c in fake.records("communications")}
    assert results == [
        WriteResult("message:7:delivered", created["message:7:delivered"]["id"]),
        WriteResult("message:8:sent", created["message:8:sent"]["id"]),
    ]
    first = created["message:7:delivered"]
    assert first["associations"] == {"contacts": [contact]}
    assert (
        first["properties"].items()
        >= {
            "hs_communication_channel_type": "SMS",
            "hs_communication_logged_from": "CRM",
            "hs_timestamp": "2026-01-05T12:01:00.000Z",
            "hs_communication_body": (
                "Outbound SMS delivered (journey: Demo reminder, template: demo-reminder v3)"
                "\n\nYour demo is tomorrow at 10.\n\n[Cue message:7:delivered]"
            ),
        }.items()
    )
    batches = [r for r in fake.requests if r.path.endswith("/batch/create")]
    assert len(batches) == 1


def test_a_bad_activity_is_reported_and_the_good_ones_are_stored(fake, adapter, contact):
    results = adapter.activities_log(
        [
            sms(contact, "message:1:sent"),
            sms("777777", "message:2:sent"),  # a contact deleted in HubSpot
            sms(contact, "message:3:replied", direction="inbound", status="replied"),
        ]
    )

    assert [r.key for r in results] == ["message:1:sent", "message:2:sent", "message:3:replied"]
    assert results[0].record_id and not results[0].error
    assert results[1].record_id is None
    assert "contact 777777 does not exist" in results[1].error
    assert results[2].record_id and not results[2].error
    assert sorted(c["id"] for c in fake.records("communications")) == sorted(
        [results[0].record_id, results[2].record_id]
    )


def test_more_than_a_hundred_activities_go_in_several_batches(fake, adapter, contact):
    activities = [sms(contact, f"message:{i}:sent") for i in range(250)]

    results = adapter.activities_log(activities)

    assert [r.key for r in results] == [a.key for a in activities]
    assert all(r.record_id and not r.error for r in results)
    assert fake.record_count("communications") == 250
    assert len([r for r in fake.requests if r.path.endswith("/batch/create")]) == 3


def test_no_activities_make_no_call(fake, adapter):
    assert adapter.activities_log([]) == []
    assert fake.requests == []


def test_a_field_is_written_back_to_the_contact(fake, adapter, contact):
    fake.property_add(
        "contacts",
        PropertyDefinition("sms_consent_at", "SMS consent at", "datetime", "date"),
    )

    adapter.record_update(CONTACT, contact, {"sms_opt_out": True, "sms_consent_at": at(5)})

    properties = fake.record("contacts", contact)["properties"]
    assert properties["sms_opt_out"] == "true"
    assert properties["sms_consent_at"] == "2026-01-05T12:00:05.000Z"


def test_a_field_hubspot_refuses_is_a_record_refusal_with_its_message(fake, adapter, contact):
    with pytest.raises(CrmRecordRefused) as raised:
        adapter.record_update(CONTACT, contact, {"sms_consent": "yes"})

    assert 'Property \\"sms_consent\\" does not exist' in str(raised.value)
    assert "PROPERTY_DOESNT_EXIST" in str(raised.value)
    assert "sms_consent" not in fake.record("contacts", contact)["properties"]


def test_a_record_hubspot_refuses_is_refused_and_unchanged(fake, adapter, contact):
    fake.refuse_update("contacts", contact, "Contact is locked by a workflow")

    with pytest.raises(CrmRecordRefused, match="locked by a workflow"):
        adapter.record_update(CONTACT, contact, {"sms_opt_out": True})

    assert "sms_opt_out" not in fake.record("contacts", contact)["properties"]


def test_pipelines_list_their_stages_in_order(fake, adapter):
    fake.pipeline_add("renewals", "Renewals", [("due", "Due"), ("renewed", "Renewed")])

    pipelines = adapter.pipelines()

    assert [p.id for p in pipelines] == ["default", "renewals"]
    assert pipelines[1] == PipelineInfo(
        "renewals", "Renewals", [("due", "Due"), ("renewed", "Renewed")]
    )
    assert pipelines[0].stages[0] == ("appointmentscheduled", "Appointment Scheduled")


def test_fields_come_with_cue_types_and_options(fake, adapter):
    fields = {f.name: f for f in adapter.fields(CONTACT)}

    assert fields["email"] == FieldInfo("email", "Email", "text")
    assert fields["lifecyclestage"].type == "choice"
    assert "customer" in fields["lifecyclestage"].options
    assert fields["hs_buying_role"].type == "list"
    assert fields["sms_opt_out"].type == "boolean"
    assert fields["lastmodifieddate"].type == "datetime"
    deal_fields = {f.name: f.type for f in adapter.fields(DEAL)}
    assert deal_fields["amount"] == "number"
    assert [f.name for f in adapter.fields(OWNER)] == ["email", "firstName", "lastName"]


def test_a_task_create_that_timed_out_is_not_repeated(fake, sleeps, contact):
    adapter = adapter_for(fake, sleeps, timeout=0.3)
    fake.delay_next(2.0)

    with pytest.raises(CrmUnavailable, match="not repeated"):
        adapter.task_save(follow_up(contact, None), None)

    assert len([r for r in fake.requests if r.method == "POST"]) == 1
    assert fake.record_count("tasks") == 1  # HubSpot stored it; Cue did not make a second
    assert sleeps == []


def test_a_task_create_answered_with_a_5xx_is_not_repeated(fake, adapter, sleeps, contact):
    fake.fail_next(500)

    with pytest.raises(CrmUnavailable, match="not repeated"):
        adapter.task_save(follow_up(contact, None), None)

    assert len(fake.requests) == 1
    assert sleeps == []


def test_a_task_update_is_repeated_after_a_5xx(fake, adapter, sleeps, contact):
    task_id = adapter.task_save(follow_up(contact, None), None)
    fake.fail_next(503)

    assert adapter.task_save(follow_up(contact, None, completed=True), task_id) == task_id

    assert sleeps == [1]
    assert fake.record("tasks", task_id)["properties"]["hs_task_status"] == "COMPLETED"


def test_a_create_after_a_429_is_sent_again(fake, adapter, sleeps, contact):
    fake.rate_limit(times=1, retry_after=2)

    task_id = adapter.task_save(follow_up(contact, None), None)

    assert sleeps == [2]
    assert [t["id"] for t in fake.records("tasks")] == [task_id]


def test_when_hubspot_stops_mid_way_the_written_batches_are_reported(fake, adapter, contact):
    activities = [sms(contact, f"message:{i}:sent") for i in range(150)]
    fake.fail_next(502, after=1)

    results = adapter.activities_log(activities)

    assert [r.key for r in results] == [a.key for a in activities[:100]]
    assert all(r.record_id for r in results)
    assert fake.record_count("communications") == 100


def test_when_the_first_batch_fails_nothing_is_reported_written(fake, adapter, contact):
    fake.fail_next(502)

    with pytest.raises(CrmUnavailable):
        adapter.activities_log([sms(contact, "message:1:sent")])

    assert fake.record_count("communications") == 0
