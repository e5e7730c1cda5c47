"""The sync stores the CRM's pages a few at a time (up to CRM_SYNC_STORE_RECORDS records in
one transaction): what was read before the CRM failed is still stored with its cursor, and a
record read twice in one run (changed while the sync ran) is taken twice, in order."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.contacts.models import Contact, Opportunity, PipelineStage
from apps.crm.adapters import CONTACT, DEAL
from apps.crm.connections import adapter_for
from apps.crm.models import StageMapping, SyncCursor, SyncRun
from apps.crm.sync.engine import sync_in

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def stages_map() -> None:
    stages = {s.key: s for s in PipelineStage.objects.filter(pipeline__key="sales")}
    for crm_stage, key in [("appointmentscheduled", "discovery"), ("qualifiedtobuy", "demo")]:
        StageMapping.objects.create(
            system="hubspot", kind="deal", crm_pipeline="default", crm_stage=crm_stage,
            pipeline_stage=stages[key],
        )  # fmt: skip


def adapter_calling(before_page):
    """The real HubSpot adapter; `before_page(object_type, n)` runs before its n-th page of
    that object type is asked for (to script the fake between two pages)."""
    adapter = adapter_for("hubspot")
    changes = adapter.changes
    asked: dict[str, int] = {}

    def counted(object_type, cursor, *, page_size):
        asked[object_type] = asked.get(object_type, 0) + 1
        before_page(object_type, asked[object_type])
        return changes(object_type, cursor, page_size=page_size)

    adapter.changes = counted
    return adapter


def test_it_stores_a_thousand_records_in_one_transaction_not_ten(hubspot):
    hubspot.records_seed(
        "contacts", 1000, properties=lambda i: {"email": f"p{i}@x.test"}, modified_at=T0
    )
    stored = []

    run = sync_in(
        adapter=adapter_for("hubspot"),
        full=True,
        progress=lambda object_type, counts: stored.append((object_type, dict(counts))),
    )

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    contact_pages = [counts["created"] for object_type, counts in stored if object_type == CONTACT]
    # Ten list pages of 100, the search for changes during them and the archived records:
    # one transaction.
    assert contact_pages == [1000]
    assert Contact.objects.count() == 1000


def test_pages_read_before_the_crm_fails_are_stored_with_their_cursor(hubspot):
    hubspot.records_seed(
        "contacts", 250, properties=lambda i: {"email": f"p{i}@x.test"}, modified_at=T0
    )

    def expire_before_the_third_contact_page(object_type, n):
        if object_type == CONTACT and n == 3:
            hubspot.token_expire()

    run = sync_in(adapter=adapter_calling(expire_before_the_third_contact_page), full=True)

    assert run.status == SyncRun.Status.FAILED
    assert "expired" in run.error
    assert Contact.objects.count() == 200
    assert run.counts[CONTACT]["created"] == 200
    cursor = SyncCursor.objects.get(system="hubspot", object_type=CONTACT).cursor
    assert (cursor["phase"], bool(cursor["list_after"])) == ("list", True)

    hubspot.token_set(hubspot.token)
    again = sync_in(adapter=adapter_for("hubspot"))

    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.counts[CONTACT]["created"] == 50
    assert Contact.objects.count() == 250


def test_a_deal_changed_while_the_sync_runs_is_taken_twice_in_order(hubspot, settings):
    settings.CRM_SYNC_STORE_RECORDS = 500
    stages_map()
    deals = hubspot.records_seed(
        "deals", 60, properties=lambda i: {"dealname": f"D{i}"}, modified_at=T0
    )
    for deal in deals:
        hubspot.deal_stage_enter(deal, "appointmentscheduled", at=T0 + timedelta(days=1))

    def move_the_first_deal_after_the_first_page(object_type, n):
        if object_type == DEAL and n == 2:
            hubspot.deal_stage_enter(deals[0], "qualifiedtobuy", at=T0 + timedelta(days=2))

    run = sync_in(adapter=adapter_calling(move_the_first_deal_after_the_first_page), full=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # Listed (50, then 10), then found again by the search for changes during the list.
    assert run.counts[DEAL] == {**run.counts[DEAL], "created": 60, "updated": 1, "failed": 0}
    assert Opportunity.objects.count() == 60
    moved = Opportunity.objects.get(name="D0")
    assert moved.stage == "demo"
    assert [(c.to_stage, c.changed_at) for c in moved.stage_changes.order_by("changed_at")] == [
        ("discovery", T0 + timedelta(days=1)),
        ("demo", T0 + timedelta(days=2)),
    ]


def test_it_stores_no_more_records_at_once_than_the_setting_allows(hubspot, settings):
    settings.CRM_SYNC_STORE_RECORDS = 250
    hubspot.records_seed(
        "contacts", 1000, properties=lambda i: {"email": f"p{i}@x.test"}, modified_at=T0
    )
    created = []

    run = sync_in(
        adapter=adapter_for("hubspot"),
        full=True,
        progress=lambda object_type, counts: (
            created.append(counts["created"]) if object_type == CONTACT else None
        ),
    )

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # Pages of 100 gathered while they fit in 250: 200 a transaction, the last with the
    # search for changes and the archived records.
    assert created == [200, 400, 600, 800, 1000]
