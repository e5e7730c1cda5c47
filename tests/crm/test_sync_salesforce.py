"""Salesforce → Cue through the real simple-salesforce client and the fake Salesforce:
what a sync makes of Users, Accounts, Leads, Contacts and Opportunities, that a converted
lead carries on as the same person, and that running it again changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.accounts import roles
from apps.consent.models import ConsentAttempt, ConsentRecord
from apps.consent.services import Evidence, consent_opt_out
from apps.contacts.events import record_event
from apps.contacts.models import (
    Company,
    Contact,
    Event,
    Opportunity,
    OpportunityStageChange,
    PipelineStage,
)
from apps.crm.connections import adapter_for
from apps.crm.models import (
    ConsentFlag,
    CrmOwner,
    FieldMapping,
    RecordError,
    StageMapping,
    SyncCursor,
    SyncRun,
)
from apps.crm.sync.engine import sync_in
from apps.sends.models import OutboundMessage

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTHING = {"created": 0, "updated": 0, "unchanged": 0, "archived": 0, "skipped": 0, "failed": 0}


def sync(full: bool = False, page_size: int = 100) -> SyncRun:
    return sync_in(adapter=adapter_for("salesforce"), full=full, page_size=page_size)


def day(days: float) -> datetime:
    return T0 + timedelta(days=days)


def opportunity_stages_map() -> None:
    stages = {s.key: s for s in PipelineStage.objects.filter(pipeline__key="sales")}
    for crm_stage, key in [
        ("Prospecting", "discovery"),
        ("Qualification", "demo"),
        ("Proposal/Price Quote", "proposal"),
        ("Closed Won", "closed_won"),
        ("Closed Lost", "closed_lost"),
    ]:
        StageMapping.objects.create(
            system="salesforce", kind="deal", crm_pipeline="opportunity", crm_stage=crm_stage,
            pipeline_stage=stages[key],
        )  # fmt: skip


def world(fake, make_user) -> dict:
    """Two Users (one a Cue user), an Account, a Lead, a Contact at the Account and an
    Opportunity that moved two stages and then changed only its amount."""
    rep = make_user(roles.SALES_REP, email="Rep@Example.com")
    rep_user = fake.create("User", at=T0, FirstName="Rae", LastName="Rep", Email="rep@example.com")
    ghost = fake.create("User", at=T0, FirstName="No", LastName="User", Email="ghost@example.com")
    acme = fake.create("Account", at=T0, Name="Acme", Website="acme.test", OwnerId=rep_user)
    lee = fake.create(
        "Lead", at=T0, FirstName="Lee", LastName="Lead", Email="lee@lead.test",
        MobilePhone="+14155550111", Company="Lead Co", OwnerId=ghost,
    )  # fmt: skip
    ada = fake.create(
        "Contact", at=T0, FirstName="Ada", LastName="Lovelace", Email="ada@acme.test",
        MobilePhone="+14155550101", AccountId=acme, OwnerId=rep_user,
    )  # fmt: skip
    deal = fake.create(
        "Opportunity", at=day(1), Name="Renewal", AccountId=acme, ContactId=ada,
        StageName="Prospecting", CloseDate="2026-06-30", Amount=1200, OwnerId=rep_user,
    )  # fmt: skip
    fake.modify("Opportunity", deal, at=day(3), StageName="Qualification")
    fake.modify("Opportunity", deal, at=day(4), Amount=1500)  # history, but no stage move
    return {"rep": rep, "rep_user": rep_user, "acme": acme, "lee": lee, "ada": ada, "deal": deal}


def person(record_id: str) -> Contact:
    return Contact.objects.get(external_ids__source="salesforce", external_ids__value=record_id)


def salesforce_ids(contact: Contact) -> list[str]:
    return list(contact.external_ids.filter(source="salesforce").values_list("value", flat=True))


def test_a_full_sync_makes_each_record_once_with_its_owner_company_and_stage_times(
    salesforce, make_user
):
    ids = world(salesforce, make_user)
    opportunity_stages_map()

    run = sync(full=True)

    assert run.status == "succeeded", run.error
    ada = person(ids["ada"])
    assert (ada.first_name, ada.last_name, ada.email, str(ada.phone)) == (
        "Ada", "Lovelace", "ada@acme.test", "+14155550101",
    )  # fmt: skip
    assert ada.owner == ids["rep"]
    assert ada.company.name == "Acme" and ada.company.domain == "acme.test"
    lee = person(ids["lee"])
    assert (lee.first_name, lee.email, str(lee.phone)) == ("Lee", "lee@lead.test", "+14155550111")
    assert lee.owner is None  # its owner has no Cue user: reported, not dropped
    assert "has no Cue user" in RecordError.objects.get(record_id=ids["lee"]).error
    owners = CrmOwner.objects.filter(system="salesforce")
    assert owners.get(record_id=ids["rep_user"]).user == ids["rep"]
    assert set(owners.filter(user=None).values_list("email", flat=True)) == {
        "ghost@example.com", "cue@example.com",  # the integration user is a User too
    }  # fmt: skip
    deal = Opportunity.objects.get()
    assert (deal.name, deal.amount, deal.contact, deal.company) == (
        "Renewal", 1500, ada, ada.company,
    )  # fmt: skip
    assert deal.stage == "demo"
    moves = list(deal.stage_changes.order_by("changed_at").values_list("to_stage", "changed_at"))
    assert moves == [("discovery", day(1)), ("demo", day(3))]
    counts = run.counts
    assert (counts["lead"]["created"], counts["contact"]["created"]) == (1, 1)
    assert (counts["company"]["created"], counts["deal"]["created"]) == (1, 1)
    assert Contact.objects.count() == 2 and Company.objects.count() == 1
    assert set(SyncCursor.objects.values_list("object_type", flat=True)) == {
        "owner", "company", "lead", "contact", "deal", "task",
    }  # fmt: skip


def test_syncing_again_changes_nothing(salesforce, make_user):
    world(salesforce, make_user)
    opportunity_stages_map()
    sync(full=True)
    history = (
        Contact.history.count(), Company.history.count(), OpportunityStageChange.objects.count(),
        Event.objects.count(),
    )  # fmt: skip

    again = sync(full=True)
    incremental = sync()

    assert again.status == incremental.status == "succeeded"
    for object_type in ("lead", "contact", "company", "deal"):
        assert again.counts[object_type] == {**NOTHING, "unchanged": 1}, object_type
        assert incremental.counts[object_type] == NOTHING, object_type
    assert (
        Contact.history.count(), Company.history.count(), OpportunityStageChange.objects.count(),
        Event.objects.count(),
    ) == history  # fmt: skip


def test_an_incremental_sync_reads_and_updates_only_what_changed(salesforce):
    people = salesforce.seed(
        "Contact",
        [{"LastName": f"Person {n}", "Email": f"p{n}@x.test"} for n in range(12)],
        at=T0,
    )
    sync(full=True)
    changed = [people[2], people[7], people[11]]
    for n, record_id in enumerate(changed):
        salesforce.modify("Contact", record_id, at=day(5 + n), LastName=f"Changed {n}")
    salesforce.reset_requests()

    run = sync()

    assert run.counts["contact"] == {**NOTHING, "updated": 3}
    assert sorted(Contact.objects.filter(last_name__startswith="Changed").values_list(
        "email", flat=True
    )) == ["p11@x.test", "p2@x.test", "p7@x.test"]  # fmt: skip
    queries = [r.query["q"] for r in salesforce.requests if "FROM Contact" in r.query.get("q", "")]
    assert len(queries) == 1 and "SystemModstamp > 2026-03-02T09:00:00Z" in queries[0]


def test_a_contact_committed_late_is_taken_by_the_next_sync_and_nothing_twice(salesforce):
    # Given a sync at T0 + 10 min that took two contacts stamped at T0 + 8 min
    now = [T0 + timedelta(minutes=10)]
    adapter = adapter_for("salesforce")
    adapter.clock = lambda: now[0]
    eight = T0 + timedelta(minutes=8)
    salesforce.seed("Contact", [{"LastName": "One"}, {"LastName": "Two"}], at=eight)
    first = sync_in(adapter=adapter)
    assert first.counts["contact"] == {**NOTHING, "created": 2}

    # When a transaction stamped at T0 + 7 min commits after it
    late = salesforce.create("Contact", at=T0 + timedelta(minutes=7), LastName="Late")
    now[0] = T0 + timedelta(minutes=11)
    second = sync_in(adapter=adapter)

    # Then the next sync takes it, and neither of the others again
    assert second.counts["contact"] == {**NOTHING, "created": 1}
    assert person(late).last_name == "Late"
    now[0] = T0 + timedelta(minutes=30)
    assert sync_in(adapter=adapter).counts["contact"] == NOTHING
    assert Contact.objects.count() == 3


def test_a_deleted_contact_is_archived_and_stays_in_cue_without_its_id(salesforce):
    gone = salesforce.create("Contact", at=T0, LastName="Gone", Email="gone@x.test")
    kept = salesforce.create("Contact", at=T0, LastName="Kept", Email="kept@x.test")
    sync(full=True)
    salesforce.delete("Contact", gone, at=day(2))

    run = sync()

    assert run.counts["contact"] == {**NOTHING, "archived": 1}
    contact = Contact.objects.get(email="gone@x.test")
    assert salesforce_ids(contact) == []
    assert salesforce_ids(Contact.objects.get(email="kept@x.test")) == [kept]
    again = sync(full=True)  # queryAll still returns the deleted row: archived again, no one new
    assert again.counts["contact"]["archived"] == 1 and Contact.objects.count() == 2


def test_a_deal_moved_later_in_salesforce_records_the_move_at_salesforces_time(
    salesforce, make_user
):
    ids = world(salesforce, make_user)
    opportunity_stages_map()
    sync(full=True)
    salesforce.modify("Opportunity", ids["deal"], at=day(20), StageName="Closed Won")

    sync()

    deal = Opportunity.objects.get()
    assert (deal.stage, deal.stage_changed_at, deal.closed_at) == ("closed_won", day(20), day(20))
    assert deal.stage_changes.count() == 3


# A lead converted into a contact


def lead_convert_world(fake) -> tuple[str, Contact]:
    """A lead Cue knows, with a consent ledger row, an event and a message on it."""
    lead = fake.create(
        "Lead", at=T0, FirstName="Lee", LastName="Lead", Email="lee@lead.test",
        MobilePhone="+14155550111", Company="Lead Co",
    )  # fmt: skip
    sync(full=True)
    contact = person(lead)
    consent_opt_out(
        contact=contact, channel="sms", purpose="marketing", source="keyword",
        evidence=Evidence(keyword="STOP"),
    )  # fmt: skip
    record_event(contact=contact, type="pricing_view", occurred_at=day(1), idempotency_key="pv1")
    OutboundMessage.objects.create(
        contact=contact, to_address="+14155550111", body="Hi Lee", category="marketing",
        origin="journey", send_key="lee-1", status="delivered",
    )  # fmt: skip
    return lead, contact


def test_a_converted_lead_carries_on_as_the_same_cue_contact(salesforce):
    lead, contact = lead_convert_world(salesforce)
    converted = salesforce.convert_lead(lead, at=day(10))
    salesforce.modify("Contact", converted, at=day(11), Title="CTO", LastName="Converted")

    run = sync()

    assert run.status == "succeeded", run.error
    assert Contact.objects.count() == 1
    contact.refresh_from_db()
    assert salesforce_ids(contact) == [converted]
    assert contact.last_name == "Converted"
    assert contact.company.name == "Lead Co"  # the Account the conversion made
    assert ConsentRecord.objects.get().contact_id == contact.pk
    assert Event.objects.get(type="pricing_view").contact_id == contact.pk
    assert OutboundMessage.objects.get().contact_id == contact.pk
    assert not RecordError.objects.filter(resolved_at=None).exists()
    assert sync(full=True).counts["contact"] == {**NOTHING, "unchanged": 1}
    assert Contact.objects.count() == 1


def test_a_lead_converted_before_cue_ever_saw_it_is_one_contact(salesforce):
    lead = salesforce.create("Lead", at=T0, LastName="Late", Email="late@x.test", Company="L")
    contact_id = salesforce.convert_lead(lead, at=day(1))

    sync(full=True)

    assert Contact.objects.count() == 1
    assert salesforce_ids(Contact.objects.get()) == [contact_id]


def test_a_lead_converted_into_a_contact_cue_knows_as_someone_else_is_a_conflict(salesforce):
    lead, lead_person = lead_convert_world(salesforce)
    other = salesforce.create("Contact", at=day(2), LastName="Other", Email="other@x.test")
    sync()
    other_person = person(other)
    salesforce.convert_lead(lead, contact_id=other, at=day(10))

    run = sync()

    assert run.counts["lead"]["failed"] == 1
    error = RecordError.objects.get(record_id=lead)
    assert f"#{other_person.pk}" in error.error and f"#{lead_person.pk}" in error.error
    assert "not merged" in error.error
    assert Contact.objects.count() == 2
    assert salesforce_ids(lead_person) == [lead] and salesforce_ids(other_person) == [other]
    assert ConsentRecord.objects.get().contact_id == lead_person.pk
    assert OutboundMessage.objects.get().contact_id == lead_person.pk


def test_an_email_two_salesforce_records_share_is_a_reported_conflict_not_a_merge(salesforce):
    ada = salesforce.create("Contact", at=T0, LastName="Lovelace", Email="ada@acme.test")
    twin = salesforce.create(
        "Lead", at=T0, LastName="Twin", Email="ADA@acme.test", Company="Twin Co"
    )

    run = sync(full=True)

    # Leads are read before contacts: the lead comes first, and the contact is refused.
    assert Contact.objects.count() == 1
    assert salesforce_ids(Contact.objects.get()) == [twin]
    error = RecordError.objects.get(record_id=ada)
    assert "ada@acme.test" in error.error.lower() and twin in error.error
    assert run.counts["contact"]["failed"] == 1


# Consent


def opt_field_map(fake, crm_field: str, cue_field: str) -> None:
    for sobject, object_type in (("Lead", "lead"), ("Contact", "contact")):
        fake.field_add(sobject, crm_field, "boolean")
        FieldMapping.objects.create(
            system="salesforce", object_type=object_type, crm_field=crm_field, cue_field=cue_field
        )


def test_a_salesforce_opt_out_is_a_ledger_row_at_once_and_only_once(salesforce):
    opt_field_map(salesforce, "SMS_Opt_Out__c", "consent.sms_opt_out")
    record = salesforce.create(
        "Contact", at=T0, LastName="Cat", MobilePhone="+14155550102", SMS_Opt_Out__c=True
    )

    sync(full=True)
    salesforce.modify("Contact", record, at=day(1), FirstName="Cat")
    sync()
    sync(full=True)

    rows = ConsentRecord.objects.filter(source="crm:salesforce")
    assert list(rows.values_list("action", flat=True)) == ["opt_out"]
    assert f"salesforce contact {record}" in rows.get().note
    assert rows.get().contact == person(record)
    assert ConsentFlag.objects.get(record_id=record).opted_out is True


def test_a_salesforce_opt_in_without_evidence_is_only_a_claim(salesforce):
    opt_field_map(salesforce, "SMS_Opt_In__c", "consent.sms_opt_in")
    salesforce.create(
        "Lead", at=T0, LastName="Dee", MobilePhone="+14155550103", Company="D", SMS_Opt_In__c=True
    )

    sync(full=True)
    sync(full=True)

    assert not ConsentRecord.objects.exists()
    attempt = ConsentAttempt.objects.get()
    assert (attempt.source, attempt.reason_code) == ("crm:salesforce", "crm_no_evidence")


# Failures


def test_a_token_expiring_mid_sync_is_refreshed_once_and_the_sync_finishes(salesforce):
    salesforce.seed("Contact", [{"LastName": f"P{n}", "Email": f"p{n}@x.test"} for n in range(7)])
    salesforce.expire_token_after(4)  # a few requests in, every access token stops working

    run = sync(full=True, page_size=2)

    assert run.status == "succeeded", run.error
    assert salesforce.token_requests == 2  # the first login and one refresh
    assert Contact.objects.count() == 7
    assert run.counts["contact"]["created"] == 7


def test_a_limit_longer_than_cue_waits_stops_the_run_and_the_next_one_finishes(salesforce):
    records = salesforce.seed(
        "Contact", [{"LastName": f"P{n}", "Email": f"p{n}@x.test"} for n in range(5)], at=T0
    )
    contact_queries = []

    def limit_after_the_first_contact_page(request):
        if "FROM Contact" in request.query.get("q", "") and not contact_queries:
            contact_queries.append(request)
            salesforce.limit_exceeded(times=1, retry_after=30)

    salesforce.on_request = limit_after_the_first_contact_page

    stopped = sync(full=True, page_size=2)

    assert stopped.status == "stopped"
    assert "REQUEST_LIMIT_EXCEEDED" in stopped.error
    assert stopped.counts["contact"]["created"] == 2
    cursor = SyncCursor.objects.get(system="salesforce", object_type="contact").cursor
    assert cursor["id"] == records[1]  # kept where the last committed page ended
    assert not SyncCursor.objects.filter(object_type="deal").exists()  # never reached

    finished = sync(page_size=2)

    assert finished.status == "succeeded", finished.error
    assert finished.counts["contact"]["created"] == 3
    for record_id in records:
        assert (
            Contact.objects.filter(
                external_ids__source="salesforce", external_ids__value=record_id
            ).count()
            == 1
        )
    assert Contact.objects.count() == 5


def test_an_opted_out_lead_converted_with_its_flag_is_not_opted_out_twice(salesforce):
    opt_field_map(salesforce, "SMS_Opt_Out__c", "consent.sms_opt_out")
    lead = salesforce.create(
        "Lead", at=T0, LastName="Eve", MobilePhone="+14155550104", Company="E",
        SMS_Opt_Out__c=True,
    )  # fmt: skip
    sync(full=True)
    converted = salesforce.convert_lead(lead, at=day(1))
    # Salesforce's lead field mapping carries the custom checkbox over to the Contact.
    salesforce.modify("Contact", converted, at=day(1), SMS_Opt_Out__c=True)

    sync()
    sync(full=True)

    assert Contact.objects.count() == 1
    rows = ConsentRecord.objects.filter(source="crm:salesforce")
    assert list(rows.values_list("action", flat=True)) == ["opt_out"]
    assert f"salesforce lead {lead}" in rows.get().note
