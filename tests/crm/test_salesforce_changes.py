"""Reading changes from Salesforce: the adapter against the fake over real HTTPS."""

import pytest

from apps.crm.adapters import (
    COMPANY,
    CONTACT,
    DEAL,
    LEAD,
    OWNER,
    TASK,
    ActivityOut,
    CrmError,
    StageEntry,
    TaskOut,
)
from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests.crm.salesforce_world import adapter_for, at, data_requests


@pytest.fixture
def fake():
    with FakeSalesforce(batch_size=3) as fake:
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def adapter(fake, sleeps):
    return adapter_for(fake, sleeps)


def drain(adapter, object_type, page_size, cursor=None):
    """Every page until done; the ids of each page."""
    pages = []
    while True:
        page = adapter.changes(object_type, cursor, page_size=page_size)
        pages.append([record.id for record in page.records])
        cursor = page.cursor
        if page.done:
            return pages, cursor


def test_it_logs_in_with_the_refresh_token_once_and_reads_users(fake, adapter):
    rep = fake.create("User", at=at(1), FirstName="Sam", LastName="Rep", Email="sam@example.com")

    page = adapter.changes(OWNER, None, page_size=10)

    # Cue's integration user was made when the org started, after at(1).
    assert [record.id for record in page.records] == [rep, fake.integration_user_id]
    assert page.records[0].properties["Email"] == "sam@example.com"
    assert page.done is True
    assert fake.token_requests == 1
    assert adapter.connection.user_id == fake.integration_user_id


def test_it_follows_next_records_url_within_a_page(fake, adapter):
    ids = fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(10)], at=at(0))

    first = adapter.changes(CONTACT, None, page_size=7)
    second = adapter.changes(CONTACT, first.cursor, page_size=7)

    assert [record.id for record in first.records] == ids[:7]
    assert first.done is False
    assert [record.id for record in second.records] == ids[7:]
    assert second.done is True
    # 7 rows in batches of 3: one query and two query_more calls; then one query for 3.
    assert len(data_requests(fake, "queryAll")) == 4
    assert second.cursor == {"modstamp": "2026-01-05T12:00:00.000+0000", "id": ids[9]}


def test_rows_sharing_one_modstamp_across_page_boundaries_are_each_read_once(fake, adapter):
    earlier = fake.create("Contact", at=at(0), LastName="early")
    tied = fake.seed("Contact", [{"LastName": f"t{i}"} for i in range(5)], at=at(1))
    later = fake.create("Contact", at=at(2), LastName="late")

    pages, _ = drain(adapter, CONTACT, page_size=2)

    assert pages == [[earlier, tied[0]], [tied[1], tied[2]], [tied[3], tied[4]], [later]]


def test_a_record_changed_between_pages_is_read_again_after_the_rest(fake, adapter):
    ids = fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(4)], at=at(0))
    first = adapter.changes(CONTACT, None, page_size=2)

    fake.modify("Contact", ids[0], at=at(5), LastName="renamed")
    pages, cursor = drain(adapter, CONTACT, page_size=2, cursor=first.cursor)

    assert pages == [[ids[2], ids[3]], [ids[0]]]
    assert adapter.changes(CONTACT, cursor, page_size=2).records == []


def test_a_row_committed_late_with_an_older_modstamp_is_read_once_by_the_next_run(fake, sleeps):
    # Given a run at 600 s that read two contacts stamped at 500 s
    now = [at(600)]
    adapter = adapter_for(fake, sleeps, clock=lambda: now[0])
    first, second = fake.seed("Contact", [{"LastName": "a"}, {"LastName": "b"}], at=at(500))
    pages, cursor = drain(adapter, CONTACT, page_size=10)
    assert pages == [[first, second]]

    # When a transaction stamped at 450 s commits only after that run, and one is changed
    late = fake.create("Contact", at=at(450), LastName="late")
    fake.modify("Contact", first, at=at(690), LastName="renamed")
    now[0] = at(700)
    pages, cursor = drain(adapter, CONTACT, page_size=10, cursor=cursor)

    # Then the next run hands over the late one and the change, and not the other again
    assert pages == [[late, first]]
    now[0] = at(1000)
    pages, cursor = drain(adapter, CONTACT, page_size=2, cursor=cursor)
    assert pages == [[], []]
    # and once the window has passed, the cursor is the newest row's and remembers nothing
    assert cursor == {"modstamp": "2026-01-05T12:11:30.000+0000", "id": first}
    assert drain(adapter, CONTACT, page_size=10, cursor=cursor) == ([[]], cursor)


def test_a_quiet_org_rereads_nothing(fake, sleeps):
    adapter = adapter_for(fake, sleeps, clock=lambda: at(5000))
    ids = fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(3)], at=at(0))

    pages, cursor = drain(adapter, CONTACT, page_size=10)

    assert pages == [ids]
    assert cursor == {"modstamp": "2026-01-05T12:00:00.000+0000", "id": ids[2]}


def test_an_empty_org_is_done_at_once_and_keeps_the_cursor(fake, adapter):
    cursor = {"modstamp": "2026-01-05T12:00:00.000+0000", "id": "003Fk0000000009AAA"}

    page = adapter.changes(COMPANY, cursor, page_size=50)

    assert page.records == []
    assert page.done is True
    assert page.cursor == cursor


def test_deleted_records_come_back_archived_through_query_all(fake, adapter):
    kept, gone = fake.seed("Account", [{"Name": "Kept"}, {"Name": "Gone"}], at=at(0))
    first = adapter.changes(COMPANY, None, page_size=10)

    fake.delete("Account", gone, at=at(9))
    page = adapter.changes(COMPANY, first.cursor, page_size=10)

    assert [(record.id, record.archived) for record in first.records] == [
        (kept, False),
        (gone, False),
    ]
    assert [(record.id, record.archived) for record in page.records] == [(gone, True)]


def test_a_converted_lead_names_the_contact_it_became(fake, adapter):
    owner = fake.create("User", at=at(0), LastName="Rep", Email="rep@example.com")
    lead = fake.create("Lead", at=at(0), LastName="Ng", Company="Acme", OwnerId=owner)
    before = adapter.changes(LEAD, None, page_size=10)

    contact = fake.convert_lead(lead, at=at(30))
    leads = adapter.changes(LEAD, before.cursor, page_size=10)
    contacts = adapter.changes(CONTACT, None, page_size=10)

    assert before.records[0].converted_to is None
    assert [(record.id, record.converted_to) for record in leads.records] == [(lead, contact)]
    assert leads.records[0].associations == {"owner": [owner]}
    assert [record.id for record in contacts.records] == [contact]
    assert contacts.records[0].properties["LastName"] == "Ng"


def test_opportunities_carry_their_stage_history_with_salesforce_times(fake, adapter):
    account = fake.create("Account", at=at(0), Name="Acme")
    deal = fake.create(
        "Opportunity",
        at=at(0),
        Name="Acme renewal",
        AccountId=account,
        StageName="Prospecting",
        CloseDate="2026-03-01",
    )
    fake.modify("Opportunity", deal, at=at(60), Amount=5000)  # history row, same stage
    fake.modify("Opportunity", deal, at=at(120), StageName="Qualification")
    fake.modify("Opportunity", deal, at=at(180), StageName="Closed Won")

    page = adapter.changes(DEAL, None, page_size=10)

    (record,) = page.records
    assert record.stage_history == (
        StageEntry("opportunity", "Prospecting", at(0)),
        StageEntry("opportunity", "Qualification", at(120)),
        StageEntry("opportunity", "Closed Won", at(180)),
    )
    assert record.properties["IsWon"] is True
    assert record.associations == {"company": [account]}
    assert record.modified_at == at(180)


def test_stage_history_is_read_for_every_opportunity_of_a_long_page(fake, adapter):
    deals = fake.seed(
        "Opportunity",
        [
            {"Name": f"d{i}", "StageName": "Prospecting", "CloseDate": "2026-03-01"}
            for i in range(450)
        ],
        at=at(0),
    )

    page = adapter.changes(DEAL, None, page_size=450)

    assert len(page.records) == 450
    assert all(
        record.stage_history == (StageEntry("opportunity", "Prospecting", at(0)),)
        for record in page.records
    )
    assert {record.id for record in page.records} == set(deals)


def test_tasks_read_back_are_cues_follow_ups_with_their_completion(fake, adapter):
    contact = fake.create("Contact", at=at(0), LastName="Ng")
    someone_elses = fake.create("Task", at=at(0), Subject="Not Cue's", WhoId=contact)
    fake.reset_requests()

    task_id = adapter.task_save(
        TaskOut("task:1", contact, None, "Call Ng", "Clicked pricing", at(3600), "high"), None
    )
    adapter.activities_log(
        [ActivityOut("message:1:sent", contact, at(10), "outbound", "sent", "Hi")]
    )
    fake.complete_task(task_id)

    page = adapter.changes(TASK, None, page_size=10)

    assert [record.id for record in page.records] == [task_id]
    assert page.records[0].properties["IsClosed"] is True
    assert page.records[0].properties["Status"] == "Completed"
    assert page.records[0].associations == {
        "contact": [contact],
        "owner": [fake.integration_user_id],
    }
    assert someone_elses not in [record.id for record in page.records]


def test_mapped_fields_are_read_and_an_unknown_one_is_a_clear_error(fake, sleeps):
    fake.field_add("Contact", "SMS_Opt_Out__c", "boolean")
    fake.create("Contact", at=at(0), LastName="Ng", SMS_Opt_Out__c=True)
    adapter = adapter_for(fake, sleeps, properties={CONTACT: ["SMS_Opt_Out__c", "email"]})
    broken = adapter_for(fake, sleeps, properties={CONTACT: ["No_Such__c"]})

    page = adapter.changes(CONTACT, None, page_size=10)

    assert page.records[0].properties["SMS_Opt_Out__c"] is True
    with pytest.raises(CrmError, match="INVALID_FIELD: No such column 'No_Such__c'"):
        broken.changes(CONTACT, None, page_size=10)


def test_a_cursor_that_is_not_salesforces_is_refused(adapter):
    with pytest.raises(CrmError, match="not a Salesforce cursor"):
        adapter.changes(CONTACT, {"after": "123"}, page_size=10)


def test_pipelines_and_fields_come_from_describe(fake, adapter):
    fake.field_add("Contact", "Buying_Role__c", "picklist", picklist=("Champion", "User"))

    (pipeline,) = adapter.pipelines()
    fields = {field.name: field for field in adapter.fields(CONTACT)}

    assert pipeline.id == "opportunity"
    assert pipeline.stages[0] == ("Prospecting", "Prospecting")
    assert pipeline.stages[-2:] == [("Closed Won", "Closed Won"), ("Closed Lost", "Closed Lost")]
    assert fields["Buying_Role__c"].type == "choice"
    assert fields["Buying_Role__c"].options == ("Champion", "User")
    assert (fields["Email"].type, fields["Email"].max_length) == ("text", 80)
    assert fields["HasOptedOutOfEmail"].type == "boolean"
    assert fields["SystemModstamp"].type == "datetime"


def test_a_query_locator_salesforce_forgot_mid_page_reads_the_page_again(fake, adapter):
    ids = fake.seed("Contact", [{"LastName": f"n{i}"} for i in range(7)], at=at(0))
    expired = []

    def forget_once(recorded):
        if "/queryAll" in recorded.path and not expired:
            expired.append(recorded.path)
            fake.expire_query_locators()

    fake.on_request = forget_once

    page = adapter.changes(CONTACT, None, page_size=7)

    assert [record.id for record in page.records] == ids
    statuses = [request.status for request in data_requests(fake, "queryAll")]
    assert statuses == [200, 400, 200, 200, 200]
