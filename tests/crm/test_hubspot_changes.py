"""Reading changes from HubSpot: the adapter against the fake over real HTTP."""

from collections import Counter
from datetime import timedelta

import pytest

from apps.crm.adapters import COMPANY, CONTACT, DEAL, OWNER, TASK, StageEntry
from apps.crm.hubspot import HubSpotAdapter
from apps.crm.testing.fake_hubspot import FakeHubSpot
from tests.crm.hubspot_world import T0, adapter_for, at, drain, ids, searches


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


def seed_contacts(fake, count, modified_at):
    return fake.records_seed(
        "contacts",
        count,
        properties=lambda i: {"email": f"c{i}@example.com", "firstname": f"C{i}"},
        modified_at=modified_at,
    )


def test_it_reads_object_types_owners_first():
    assert HubSpotAdapter.object_types == (OWNER, COMPANY, CONTACT, DEAL, TASK)
    assert HubSpotAdapter.system == "hubspot"


def test_it_reads_a_full_sync_through_list_pages_each_record_once(fake, adapter):
    contact_ids = seed_contacts(fake, 250, modified_at=lambda i: at(i % 7))

    records, cursor, pages = drain(adapter, CONTACT, None)

    assert sorted(ids(records), key=int) == contact_ids
    assert Counter(ids(records)).most_common(1)[0][1] == 1
    assert records[0].properties["email"] == "c0@example.com"
    assert records[0].modified_at == at(0)
    assert records[0].archived is False
    list_reads = [r for r in fake.requests if r.path == "/crm/v3/objects/contacts"]
    archived_flags = [r.query["archived"][0].lower() for r in list_reads]
    assert archived_flags == ["false"] * 3 + ["true"]
    assert pages == 5  # three list pages, the search for changes during them, the archives
    assert cursor["phase"] == "search"


def test_it_reads_nothing_new_when_nothing_changed(fake, adapter):
    seed_contacts(fake, 30, modified_at=at(0))
    _, cursor, _ = drain(adapter, CONTACT, None)

    records, _, _ = drain(adapter, CONTACT, cursor)

    assert records == []


def test_it_reads_only_what_changed_since_the_cursor(fake, adapter):
    contact_ids = seed_contacts(fake, 1_000, modified_at=at(0))
    _, cursor, _ = drain(adapter, CONTACT, None)
    changed = contact_ids[10:30]
    fake.records_modify("contacts", changed, modified_at=at(60))
    fake.record_modify("contacts", contact_ids[500], {"firstname": "New"}, modified_at=at(61))
    before = len(fake.requests)

    records, _, _ = drain(adapter, CONTACT, cursor)

    assert ids(records) == [*changed, contact_ids[500]]
    assert records[-1].properties["firstname"] == "New"
    assert records[-1].modified_at == at(61)
    read_sizes = [len(r.query) for r in fake.requests[before:]]
    assert len(read_sizes) < 10  # a few searches, not a relisting of 1,000 contacts


def test_it_crosses_the_10000_result_cap_with_distinct_times(fake, adapter):
    _, cursor, _ = drain(adapter, CONTACT, None)
    contact_ids = seed_contacts(fake, 10_500, modified_at=lambda i: at(1 + i))

    records, _, _ = drain(adapter, CONTACT, cursor, page_size=200)

    assert ids(records) == contact_ids
    assert all(r.status < 400 for r in fake.requests)
    assert max(int(r.body.get("after") or 0) for r in searches(fake)) == 0


def test_it_crosses_the_10000_result_cap_when_every_record_shares_one_time(fake, adapter):
    _, cursor, _ = drain(adapter, CONTACT, None)
    contact_ids = seed_contacts(fake, 10_500, modified_at=at(5))

    records, _, _ = drain(adapter, CONTACT, cursor, page_size=200)

    assert ids(records) == contact_ids
    assert all(r.status < 400 for r in fake.requests)


def test_it_reads_more_than_a_page_sharing_one_time_between_distinct_times(fake, adapter):
    _, cursor, _ = drain(adapter, CONTACT, None)
    early = seed_contacts(fake, 150, modified_at=lambda i: at(1 + i))
    tied = seed_contacts(fake, 450, modified_at=at(500))
    late = seed_contacts(fake, 120, modified_at=lambda i: at(600 + i))

    records, _, _ = drain(adapter, CONTACT, cursor, page_size=200)

    assert Counter(ids(records)) == Counter(early + tied + late)
    assert ids(records)[:150] == early
    assert sorted(ids(records)[150:600], key=int) == tied
    assert ids(records)[600:] == late


def test_a_record_changed_between_two_pages_is_not_skipped(fake, adapter):
    _, cursor, _ = drain(adapter, CONTACT, None)
    contact_ids = seed_contacts(fake, 300, modified_at=lambda i: at(1 + i))
    first = adapter.changes(CONTACT, cursor, page_size=100)
    # Someone edits a record the run has not reached; it moves to the end of the order.
    fake.record_modify("contacts", contact_ids[150], {"firstname": "Edited"}, modified_at=at(900))

    records, _, _ = drain(adapter, CONTACT, first.cursor, page_size=100)
    seen = ids(first.records) + ids(records)

    assert Counter(seen) == Counter(contact_ids)
    assert seen[-1] == contact_ids[150]
    assert records[-1].properties["firstname"] == "Edited"


def test_the_cursor_resumes_after_any_page(fake, adapter):
    """The engine stores each page's cursor; a crash re-reads from the last one stored."""
    _, cursor, _ = drain(adapter, CONTACT, None)
    contact_ids = seed_contacts(fake, 700, modified_at=lambda i: at(1 + i // 250))
    seen = []
    for _ in range(50):
        page = adapter.changes(CONTACT, cursor, page_size=100)
        seen += ids(page.records)
        # A fresh adapter (a new process) carries on from the stored cursor.
        adapter = adapter_for(fake, [])
        cursor = page.cursor
        if page.done:
            break

    assert Counter(seen) == Counter(contact_ids)


def test_archived_records_come_back_archived_and_only_once(fake, sleeps):
    now = [at(1_000).timestamp()]
    adapter = adapter_for(fake, sleeps, clock=lambda: now[0], settle_seconds=0)
    contact_ids = seed_contacts(fake, 5, modified_at=at(0))
    fake.record_archive("contacts", contact_ids[0], archived_at=at(10))
    records, cursor, _ = drain(adapter, CONTACT, None)
    assert {(r.id, r.archived) for r in records} == {
        *[(i, False) for i in contact_ids[1:]],
        (contact_ids[0], True),
    }
    archived = next(r for r in records if r.archived)
    assert archived.modified_at == at(10)

    fake.record_archive("contacts", contact_ids[3], archived_at=at(1_001))
    now[0] = at(1_002).timestamp()
    records, cursor, _ = drain(adapter, CONTACT, cursor)
    assert [(r.id, r.archived) for r in records] == [(contact_ids[3], True)]

    now[0] = at(1_003).timestamp()
    records, _, _ = drain(adapter, CONTACT, cursor)
    assert records == []


def test_a_restored_record_comes_back_live(fake, adapter):
    contact_ids = seed_contacts(fake, 2, modified_at=at(0))
    fake.record_archive("contacts", contact_ids[1], archived_at=at(5))
    _, cursor, _ = drain(adapter, CONTACT, None)

    fake.record_restore("contacts", contact_ids[1], restored_at=at(20))
    records, _, _ = drain(adapter, CONTACT, cursor)

    assert [(r.id, r.archived, r.modified_at) for r in records] == [(contact_ids[1], False, at(20))]


def test_owners_come_with_their_email_archived_ones_too(fake, adapter):
    active = fake.owner_add("rep@example.com", "Rita", "Rep")
    gone = fake.owner_add("left@example.com", "Lee", "Left", archived=True)

    records, _, _ = drain(adapter, OWNER, None)

    assert [(r.id, r.properties["email"], r.archived) for r in records] == [
        (active, "rep@example.com", False),
        (gone, "left@example.com", True),
    ]
    assert records[0].properties["firstName"] == "Rita"


def test_owners_are_paged_through_and_only_those_changed_since_handed_over(sleeps):
    # Given owners added at 1 to 4 s and read once
    now = [0.0]
    with FakeHubSpot(clock=lambda: now[0]) as fake:
        adapter = adapter_for(fake, sleeps)
        added = []
        for i, archived in enumerate((False, False, False, True), start=1):
            now[0] = at(i).timestamp()
            added.append(fake.owner_add(f"rep{i}@example.com", archived=archived))
        _, second, third, gone = added
        records, cursor, _ = drain(adapter, OWNER, None, page_size=2)
        assert ids(records) == added

        # When nothing changes, then one is renamed and another archived
        unchanged, cursor, pages = drain(adapter, OWNER, cursor, page_size=2)
        now[0] = at(300).timestamp()
        fake.owner_update(second, firstName="Sasha")
        fake.owner_update(third, archived=True)
        changed, cursor, _ = drain(adapter, OWNER, cursor, page_size=2)

    # Then every page was read each time, and only what changed was handed over (and the
    # owner of the very millisecond the last pass ended, read twice rather than never)
    assert (ids(unchanged), pages) == ([gone], 3)
    assert [(r.id, r.properties["firstName"], r.archived) for r in changed] == [
        (second, "Sasha", False),
        (third, "", True),
        (gone, "", True),
    ]
    assert cursor["since"] == round(at(300).timestamp() * 1000)


def test_contacts_name_their_companies_in_full_and_incremental_reads(fake, adapter):
    company = fake.record_add("companies", {"name": "Acme"}, modified_at=at(0))
    other = fake.record_add("companies", {"name": "Beta"}, modified_at=at(0))
    contact, loner = seed_contacts(fake, 2, modified_at=at(0))
    fake.associate("contacts", contact, "companies", company)
    fake.associate("contacts", contact, "companies", other)

    records, cursor, _ = drain(adapter, CONTACT, None)
    assert {r.id: r.associations for r in records} == {
        contact: {COMPANY: [company, other]},
        loner: {},
    }

    fake.records_modify("contacts", [contact, loner], modified_at=at(30))
    records, _, _ = drain(adapter, CONTACT, cursor)
    assert {r.id: r.associations for r in records} == {
        contact: {COMPANY: [company, other]},
        loner: {},
    }


def test_associations_past_hubspots_first_page_are_read_in_full_and_incremental_reads(
    fake, adapter
):
    # Given HubSpot handing over two associations of a record at a time, a company with
    # five contacts and a deal with three
    fake.associations_page_size = 2
    company = fake.record_add("companies", {"name": "Acme"}, modified_at=at(0))
    people = seed_contacts(fake, 5, modified_at=at(0))
    deal = fake.record_add("deals", {"dealname": "Renewal"}, modified_at=at(0))
    small = fake.record_add("deals", {"dealname": "Small"}, modified_at=at(0))
    for person in people:
        fake.associate("contacts", person, "companies", company)
    for person in people[:3]:
        fake.associate("deals", deal, "contacts", person)
    fake.associate("deals", small, "contacts", people[4])

    # When the deals are read in full (list pages) and again after a change (search pages)
    full, cursor, _ = drain(adapter, DEAL, None)
    fake.records_modify("deals", [deal, small], modified_at=at(30))
    changed, _, _ = drain(adapter, DEAL, cursor)

    # Then every association is there, each once
    for records in (full, changed):
        assert {r.id: r.associations.get(CONTACT) for r in records} == {
            deal: people[:3],
            small: [people[4]],
        }
    # and the v4 reads asked for the next page of the deal only, once in each read
    reads = [r.body["inputs"] for r in fake.requests if r.path.endswith("/contacts/batch/read")]
    following = [inputs for inputs in reads if any("after" in item for item in inputs)]
    assert [[item["id"] for item in inputs] for inputs in following] == [[deal], [deal]]


def test_deals_carry_contacts_companies_and_hubspot_stage_times(fake, adapter):
    company = fake.record_add("companies", {"name": "Acme"}, modified_at=at(0))
    (contact,) = seed_contacts(fake, 1, modified_at=at(0))
    deal = fake.record_add("deals", {"dealname": "Renewal", "amount": "1200"}, modified_at=at(0))
    fake.associate("deals", deal, "contacts", contact)
    fake.associate("deals", deal, "companies", company)
    fake.deal_stage_enter(deal, "appointmentscheduled", at=at(100))
    fake.deal_stage_enter(deal, "qualifiedtobuy", at=at(200))
    _, cursor, _ = drain(adapter, DEAL, None)

    fake.deal_stage_enter(deal, "closedwon", at=at(300))
    (record,), _, _ = drain(adapter, DEAL, cursor)

    assert record.associations == {CONTACT: [contact], COMPANY: [company]}
    assert record.properties["dealstage"] == "closedwon"
    assert record.properties["amount"] == "1200"
    assert record.stage_history == (
        StageEntry("default", "appointmentscheduled", at(100)),
        StageEntry("default", "qualifiedtobuy", at(200)),
        StageEntry("default", "closedwon", at(300)),
    )


def test_stage_times_name_the_pipeline_of_each_stage(fake, adapter):
    fake.pipeline_add("renewals", "Renewals", [("renewal_due", "Due"), ("renewed", "Renewed")])
    deal = fake.record_add("deals", {"dealname": "R"}, modified_at=at(0))
    fake.deal_stage_enter(deal, "renewed", at=at(50))

    (record,), _, _ = drain(adapter, DEAL, None)

    assert record.properties["pipeline"] == "renewals"
    assert record.stage_history == (StageEntry("renewals", "renewed", at(50)),)


def test_companies_and_tasks_are_read_like_contacts(fake, adapter):
    company = fake.record_add(
        "companies", {"name": "Acme", "domain": "acme.test"}, modified_at=at(0)
    )
    (contact,) = seed_contacts(fake, 1, modified_at=at(0))
    task = fake.record_add(
        "tasks",
        {"hs_task_subject": "Call", "hs_task_status": "COMPLETED", "hs_timestamp": at(9)},
        modified_at=at(0),
    )
    fake.associate("tasks", task, "contacts", contact)

    (company_record,), _, _ = drain(adapter, COMPANY, None)
    (task_record,), _, _ = drain(adapter, TASK, None)

    assert company_record.id == company
    assert company_record.properties["domain"] == "acme.test"
    assert task_record.properties["hs_task_status"] == "COMPLETED"
    assert task_record.associations == {CONTACT: [contact]}


def test_extra_properties_the_mappings_need_are_read(fake, sleeps):
    fake.record_add("contacts", {"email": "a@example.com", "jobtitle": "CTO"}, modified_at=at(0))
    adapter = adapter_for(fake, sleeps, properties={CONTACT: ["jobtitle"]})

    (record,), _, _ = drain(adapter, CONTACT, None)

    assert record.properties["jobtitle"] == "CTO"
    assert record.properties["email"] == "a@example.com"


def test_the_end_of_a_run_stays_behind_the_search_index(fake, sleeps):
    """HubSpot's search trails its writes: a change in the last seconds is read again by
    the next run, never skipped."""
    now = T0.timestamp() + 3_600
    adapter = adapter_for(fake, sleeps, clock=lambda: now, settle_seconds=30)
    _, cursor, _ = drain(adapter, CONTACT, None)
    (recent,) = seed_contacts(fake, 1, modified_at=T0 + timedelta(seconds=3_600 - 5))

    first, cursor, _ = drain(adapter, CONTACT, cursor)
    second, _, _ = drain(adapter, CONTACT, cursor)

    assert ids(first) == [recent]
    assert ids(second) == [recent]


def test_a_record_indexed_late_is_still_read(fake, sleeps):
    now = T0.timestamp() + 3_600
    adapter = adapter_for(fake, sleeps, clock=lambda: now, settle_seconds=30)
    _, cursor, _ = drain(adapter, CONTACT, None)
    (newer,) = seed_contacts(fake, 1, modified_at=T0 + timedelta(seconds=3_600 - 2))
    drain_once, cursor, _ = drain(adapter, CONTACT, cursor)
    # A change made 10 s ago that the search index only shows now.
    (late,) = seed_contacts(fake, 1, modified_at=T0 + timedelta(seconds=3_600 - 10))

    records, _, _ = drain(adapter, CONTACT, cursor)

    assert ids(drain_once) == [newer]
    assert ids(records) == [late, newer]


def test_an_unknown_object_type_is_refused(adapter):
    with pytest.raises(ValueError, match="lead"):
        adapter.changes("lead", None, page_size=10)


@pytest.mark.parametrize("page_size", [0, -5])
def test_a_page_size_below_one_is_refused_before_any_call(fake, adapter, page_size):
    with pytest.raises(ValueError, match="page_size"):
        adapter.changes(CONTACT, None, page_size=page_size)

    assert fake.requests == []


def test_a_deals_stage_history_lists_every_move_re_entries_too(fake, adapter):
    deal = fake.record_add("deals", {"dealname": "Renewal"}, modified_at=at(0))
    for stage, seconds in (("appointmentscheduled", 100), ("qualifiedtobuy", 200)):
        fake.deal_stage_enter(deal, stage, at=at(seconds))
    fake.deal_stage_enter(deal, "appointmentscheduled", at=at(300))
    listed, cursor, _ = drain(adapter, DEAL, None)
    fake.deal_stage_enter(deal, "qualifiedtobuy", at=at(400))
    searched, _, _ = drain(adapter, DEAL, cursor)

    moves = [("appointmentscheduled", at(100)), ("qualifiedtobuy", at(200))]
    moves += [("appointmentscheduled", at(300))]
    assert [(e.stage, e.entered_at) for e in listed[0].stage_history] == moves
    assert [(e.stage, e.entered_at) for e in searched[0].stage_history] == [
        *moves,
        ("qualifiedtobuy", at(400)),
    ]
    assert {e.pipeline for e in searched[0].stage_history} == {"default"}
    lists = [
        r.query
        for r in fake.requests
        if r.path == "/crm/v3/objects/deals" and r.query["archived"][0].lower() == "false"
    ]
    assert [(q["propertiesWithHistory"], q["limit"]) for q in lists] == [(["dealstage"], ["50"])]


def test_changed_deals_stage_histories_are_read_fifty_at_a_time_as_hubspot_allows(fake, adapter):
    deals = fake.records_seed(
        "deals", 120, properties=lambda i: {"dealname": f"D{i}"}, modified_at=at(0)
    )
    _, cursor, _ = drain(adapter, DEAL, None)
    for index, deal in enumerate(deals):
        fake.deal_stage_enter(deal, "qualifiedtobuy", at=at(100 + index))
    before = len(fake.requests)

    records, _, _ = drain(adapter, DEAL, cursor, page_size=200)

    reads = [r for r in fake.requests[before:] if r.path == "/crm/v3/objects/deals/batch/read"]
    assert [len(r.body["inputs"]) for r in reads] == [50, 50, 20]
    assert all(r.status == 200 for r in reads)
    assert len(records) == 120
    assert {record.stage_history[-1].stage for record in records} == {"qualifiedtobuy"}
