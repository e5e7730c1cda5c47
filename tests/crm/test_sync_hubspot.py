"""HubSpot → Cue through the real client and the fake HubSpot: what a sync makes of owners,
companies, contacts and deals, and that running it again changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.accounts import roles
from apps.consent.models import ConsentAttempt, ConsentRecord
from apps.contacts.models import (
    Company,
    Contact,
    ContactExternalId,
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
from apps.crm.services import record_error_retry
from apps.crm.sync.engine import SyncBusy, sync_in

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTHING = {"created": 0, "updated": 0, "unchanged": 0, "archived": 0, "skipped": 0, "failed": 0}


def sync(full: bool = False) -> SyncRun:
    return sync_in(adapter=adapter_for("hubspot"), full=full)


def deal_stages_map() -> None:
    stages = {s.key: s for s in PipelineStage.objects.filter(pipeline__key="sales")}
    for crm_stage, key in [
        ("appointmentscheduled", "discovery"),
        ("qualifiedtobuy", "demo"),
        ("contractsent", "proposal"),
        ("closedwon", "closed_won"),
        ("closedlost", "closed_lost"),
    ]:
        StageMapping.objects.create(
            system="hubspot", kind="deal", crm_pipeline="default", crm_stage=crm_stage,
            pipeline_stage=stages[key],
        )  # fmt: skip


def world(hubspot, make_user):
    """Two owners (one a Cue user), a company, two contacts and a deal with history."""
    rep = make_user(roles.SALES_REP, email="Rep@Example.com")
    hubspot.owner_add("rep@example.com", "Rae", "Rep", owner_id="501")
    hubspot.owner_add("ghost@example.com", "No", "User", owner_id="502")
    acme = hubspot.record_add("companies", {"name": "Acme", "domain": "acme.test"}, modified_at=T0)
    ada = hubspot.record_add(
        "contacts",
        {
            "firstname": "Ada", "lastname": "Lovelace", "email": "ada@acme.test",
            "phone": "+14155550101", "hubspot_owner_id": "501", "lifecyclestage": "lead",
        },
        modified_at=T0,
    )  # fmt: skip
    bob = hubspot.record_add(
        "contacts",
        {"firstname": "Bob", "email": "bob@acme.test", "hubspot_owner_id": "502"},
        modified_at=T0,
    )
    hubspot.associate("contacts", ada, "companies", acme)
    deal = hubspot.record_add("deals", {"dealname": "Renewal", "amount": "1200"}, modified_at=T0)
    hubspot.deal_stage_enter(deal, "appointmentscheduled", at=T0 + timedelta(days=1))
    hubspot.deal_stage_enter(deal, "qualifiedtobuy", at=T0 + timedelta(days=3))
    hubspot.associate("deals", deal, "contacts", ada)
    hubspot.associate("deals", deal, "companies", acme)
    return {"rep": rep, "acme": acme, "ada": ada, "bob": bob, "deal": deal}


def test_a_full_sync_makes_each_record_once_with_its_owner_company_and_stage_times(
    hubspot, make_user
):
    ids = world(hubspot, make_user)
    deal_stages_map()

    run = sync(full=True)

    assert run.status == "succeeded", run.error
    ada = Contact.objects.get(external_ids__source="hubspot", external_ids__value=ids["ada"])
    assert (ada.first_name, ada.last_name, ada.email, str(ada.phone)) == (
        "Ada", "Lovelace", "ada@acme.test", "+14155550101",
    )  # fmt: skip
    assert ada.owner == ids["rep"]
    assert ada.company.name == "Acme"
    assert ada.lifecycle_stage == "lead"
    bob = Contact.objects.get(external_ids__source="hubspot", external_ids__value=ids["bob"])
    assert bob.owner is None  # owner 502 has no Cue user: reported, not dropped
    assert list(CrmOwner.objects.filter(user=None).values_list("email", flat=True)) == [
        "ghost@example.com"
    ]
    deal = Opportunity.objects.get()
    assert (deal.name, deal.amount, deal.contact, deal.company) == (
        "Renewal", 1200, ada, ada.company,
    )  # fmt: skip
    assert deal.stage == "demo"
    moves = list(deal.stage_changes.order_by("changed_at").values_list("to_stage", "changed_at"))
    assert moves == [
        ("discovery", T0 + timedelta(days=1)),
        ("demo", T0 + timedelta(days=3)),
    ]
    assert run.counts["contact"]["created"] == 2
    assert Contact.objects.count() == 2 and Company.objects.count() == 1
    assert set(SyncCursor.objects.values_list("object_type", flat=True)) >= {
        "owner", "company", "contact", "deal",
    }  # fmt: skip


def test_syncing_again_changes_nothing(hubspot, make_user):
    world(hubspot, make_user)
    deal_stages_map()
    sync(full=True)
    history = (Contact.history.count(), OpportunityStageChange.objects.count())

    again = sync(full=True)
    incremental = sync()

    assert again.counts["contact"]["unchanged"] == 2
    assert again.counts["contact"]["created"] == again.counts["contact"]["updated"] == 0
    assert again.counts["deal"]["unchanged"] == 1
    assert incremental.counts["contact"] == {
        "created": 0, "updated": 0, "unchanged": 0, "archived": 0, "skipped": 0, "failed": 0,
    }  # fmt: skip
    assert (Contact.history.count(), OpportunityStageChange.objects.count()) == history


def test_an_incremental_sync_reads_only_what_changed(hubspot, make_user):
    ids = world(hubspot, make_user)
    deal_stages_map()
    sync(full=True)
    hubspot.record_modify(
        "contacts", ids["bob"], {"lastname": "Builder"}, modified_at=T0 + timedelta(days=9)
    )

    run = sync()

    assert run.counts["contact"]["updated"] == 1
    assert sum(run.counts["contact"].values()) == 1
    assert Contact.objects.get(email="bob@acme.test").last_name == "Builder"


def test_a_deal_moved_later_in_hubspot_records_the_move_at_hubspots_time(hubspot, make_user):
    ids = world(hubspot, make_user)
    deal_stages_map()
    sync(full=True)
    won_at = T0 + timedelta(days=20)
    hubspot.deal_stage_enter(ids["deal"], "closedwon", at=won_at)

    sync()

    deal = Opportunity.objects.get()
    assert (deal.stage, deal.stage_changed_at, deal.closed_at) == ("closed_won", won_at, won_at)


def test_an_email_two_hubspot_contacts_share_is_a_reported_conflict_not_a_merge(hubspot, make_user):
    ids = world(hubspot, make_user)
    twin = hubspot.record_add("contacts", {"email": "ADA@acme.test"}, modified_at=T0)

    run = sync(full=True)

    assert Contact.objects.filter(email__iexact="ada@acme.test").count() == 1
    error = RecordError.objects.get(record_id=twin)
    assert "ada@acme.test" in error.error.lower() and ids["ada"] in error.error
    assert run.counts["contact"]["failed"] == 1
    assert not ContactExternalId.objects.filter(source="hubspot", value=twin).exists()


def test_a_deal_in_an_unmapped_stage_is_kept_and_taken_once_the_stage_is_mapped(hubspot, make_user):
    world(hubspot, make_user)  # no stage mappings yet
    sync(full=True)
    error = RecordError.objects.get(object_type="deal")
    assert "qualifiedtobuy" in error.error and not Opportunity.objects.exists()

    deal_stages_map()
    assert record_error_retry(error=error) is True

    error.refresh_from_db()
    assert error.resolved_at is not None
    assert Opportunity.objects.get().stage == "demo"


def test_a_value_cue_cannot_hold_leaves_that_field_out_and_reports_it(hubspot, make_user):
    hubspot.record_add(
        "contacts", {"firstname": "Cy", "email": "not-an-email", "phone": "+14155550199"},
        modified_at=T0,
    )  # fmt: skip

    sync(full=True)

    contact = Contact.objects.get(phone="+14155550199")
    assert (contact.first_name, contact.email) == ("Cy", "")
    assert "not an email address" in RecordError.objects.get().error


def test_an_archived_contact_stays_in_cue_without_its_hubspot_id(hubspot, make_user):
    ids = world(hubspot, make_user)
    deal_stages_map()
    sync(full=True)
    hubspot.record_archive("contacts", ids["bob"])  # archived now, after the last sync

    run = sync()

    assert run.counts["contact"]["archived"] == 1
    assert Contact.objects.filter(email="bob@acme.test").exists()
    assert not ContactExternalId.objects.filter(source="hubspot", value=ids["bob"]).exists()


def test_a_hubspot_opt_out_is_a_ledger_row_at_once_and_only_once(hubspot, make_user):
    FieldMapping.objects.create(
        system="hubspot", object_type="contact", crm_field="sms_opt_out",
        cue_field="consent.sms_opt_out",
    )  # fmt: skip
    person = hubspot.record_add(
        "contacts", {"email": "c@x.test", "phone": "+14155550102", "sms_opt_out": "true"},
        modified_at=T0,
    )  # fmt: skip

    sync(full=True)
    hubspot.record_modify("contacts", person, {"firstname": "Cat"}, modified_at=T0 + timedelta(1))
    sync()

    rows = ConsentRecord.objects.filter(source="crm:hubspot")
    assert list(rows.values_list("action", flat=True)) == ["opt_out"]
    assert f"hubspot contact {person}" in rows.get().note
    assert ConsentFlag.objects.get(record_id=person).opted_out is True


def test_a_hubspot_opt_in_without_evidence_is_only_a_claim(hubspot, make_user):
    FieldMapping.objects.create(
        system="hubspot", object_type="contact", crm_field="sms_opt_in",
        cue_field="consent.sms_opt_in",
    )  # fmt: skip
    hubspot.record_add(
        "contacts", {"email": "d@x.test", "phone": "+14155550103", "sms_opt_in": "true"},
        modified_at=T0,
    )  # fmt: skip

    sync(full=True)

    assert not ConsentRecord.objects.exists()
    attempt = ConsentAttempt.objects.get()
    assert (attempt.source, attempt.reason_code) == ("crm:hubspot", "crm_no_evidence")


def test_a_second_sync_while_one_runs_is_refused(hubspot, make_user):
    from apps.crm.sync.engine import _lease_take

    assert _lease_take("hubspot")
    with pytest.raises(SyncBusy):
        sync()
    assert not SyncRun.objects.exists()


def test_a_lifecycle_move_carries_the_time_hubspot_recorded_it(hubspot, make_user):
    from apps.contacts.models import Event

    ids = world(hubspot, make_user)
    sync(full=True)
    became_customer = T0 + timedelta(days=4)
    hubspot.record_modify(
        "contacts", ids["ada"], {"lifecyclestage": "customer"}, modified_at=became_customer
    )
    hubspot.record_modify("contacts", ids["ada"], {"lastname": "L."}, modified_at=T0 + timedelta(9))

    sync()

    ada = Contact.objects.get(email="ada@acme.test")
    assert (ada.lifecycle_stage, ada.lifecycle_stage_changed_at) == ("customer", became_customer)
    event = Event.objects.get(contact=ada, type="lifecycle_stage_changed")
    assert (event.occurred_at, event.properties["to"]) == (became_customer, "customer")


def test_a_country_hubspot_leaves_empty_keeps_the_one_cue_has(hubspot, make_user):
    person = hubspot.record_add(
        "contacts", {"email": "e@x.test", "country": "Canada"}, modified_at=T0
    )
    sync(full=True)
    hubspot.record_modify("contacts", person, {"country": ""}, modified_at=T0 + timedelta(1))

    run = sync()

    assert Contact.objects.get(email="e@x.test").country == "CA"
    assert run.counts["contact"]["failed"] == 0


def test_an_unchanged_owner_is_not_written_again_and_finds_the_cue_user_made_since(
    hubspot, make_user
):
    # Given two HubSpot owners synced while neither had a Cue user
    later = hubspot.owner_add("later@example.com", "Lou", "Later", updated_at=T0)
    hubspot.owner_add("first@example.com", "Fay", "First")
    assert sync().counts["owner"]["created"] == 2

    # When a Cue user with one of their emails is made, and nothing changed in HubSpot
    user = make_user(roles.SALES_REP, email="Later@Example.com")
    run = sync()

    # Then no owner was handed over but the newest one (read twice rather than never), none
    # was written, and the owner has its Cue user
    assert run.counts["owner"] == {**NOTHING, "unchanged": 1}
    owners = dict(CrmOwner.objects.filter(system="hubspot").values_list("record_id", "user_id"))
    assert owners[later] == user.pk
    assert sorted(owners.values(), key=str) == sorted([None, user.pk], key=str)


def test_a_deal_that_went_back_to_a_stage_keeps_every_move_at_hubspots_times(hubspot):
    # Given a deal that went A → B → A in HubSpot
    deal_stages_map()
    deal = hubspot.record_add("deals", {"dealname": "Renewal", "amount": "1200"}, modified_at=T0)
    days = [T0 + timedelta(days=n) for n in range(5)]
    hubspot.deal_stage_enter(deal, "appointmentscheduled", at=days[1])
    hubspot.deal_stage_enter(deal, "qualifiedtobuy", at=days[2])
    hubspot.deal_stage_enter(deal, "appointmentscheduled", at=days[3])

    # When a full sync reads it, and again
    sync(full=True)
    sync(full=True)

    # Then each move is a stage change at HubSpot's time, the re-entry too, and once
    opportunity = Opportunity.objects.get()
    moves = opportunity.stage_changes.order_by("changed_at").values_list("to_stage", "changed_at")
    assert list(moves) == [("discovery", days[1]), ("demo", days[2]), ("discovery", days[3])]
    assert (opportunity.stage, opportunity.stage_changed_at) == ("discovery", days[3])

    # and an incremental sync (search, then the history read by id) adds a later re-entry
    hubspot.deal_stage_enter(deal, "qualifiedtobuy", at=days[4])
    sync()
    moves = opportunity.stage_changes.order_by("changed_at").values_list("to_stage", "changed_at")
    assert list(moves)[3:] == [("demo", days[4])]
    assert len(moves) == 4
