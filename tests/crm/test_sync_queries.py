"""A sync page costs the same number of queries however many records it holds: companies,
people and deals are written a page at a time, never record by record."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.contacts.models import Opportunity, OpportunityStageChange, PipelineStage
from apps.crm.connections import adapter_for
from apps.crm.models import StageMapping
from apps.crm.sync.engine import sync_in

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def deal_stages_map() -> None:
    stages = {s.key: s for s in PipelineStage.objects.filter(pipeline__key="sales")}
    for crm_stage, key in [("appointmentscheduled", "discovery"), ("qualifiedtobuy", "demo")]:
        StageMapping.objects.create(
            system="hubspot", kind="deal", crm_pipeline="default", crm_stage=crm_stage,
            pipeline_stage=stages[key],
        )  # fmt: skip


def world(hubspot, size: int, start: int) -> None:
    """`size` companies, contacts and deals (two moves each), with ids from `start` (a
    reset fake would number from 1 again, naming the records of the last world)."""
    for n in range(start, start + size):
        company = hubspot.record_add(
            "companies", {"name": f"Co {n}"}, modified_at=T0, record_id=n + 1
        )
        person = hubspot.record_add(
            "contacts",
            {"firstname": f"P{n}", "email": f"p{n}@x.test", "phone": f"+1415555{n:04d}"},
            modified_at=T0,
            record_id=n + 1,
        )
        hubspot.associate("contacts", person, "companies", company)
        deal = hubspot.record_add(
            "deals", {"dealname": f"D{n}", "amount": "10"}, modified_at=T0, record_id=n + 1
        )
        hubspot.deal_stage_enter(deal, "appointmentscheduled", at=T0 + timedelta(days=1))
        hubspot.deal_stage_enter(deal, "qualifiedtobuy", at=T0 + timedelta(days=2))
        hubspot.associate("deals", deal, "contacts", person)
        hubspot.associate("deals", deal, "companies", company)


def queries_of_a_full_sync(hubspot, size: int, start: int) -> tuple[int, int, int]:
    """(queries of a first full sync, people it created, queries of a second one, which
    finds every record in Cue already, a week later in the CRM)."""
    hubspot.reset()
    world(hubspot, size, start)
    with CaptureQueriesContext(connection) as queries:
        run = sync_in(adapter=adapter_for("hubspot"), full=True)
    assert run.status == "succeeded", run.error
    assert run.counts["deal"]["created"] == size
    for object_type in ("companies", "deals"):
        ids = [str(n + 1) for n in range(start, start + size)]
        hubspot.records_modify(object_type, ids, modified_at=T0 + timedelta(days=7))
    with CaptureQueriesContext(connection) as again:
        rerun = sync_in(adapter=adapter_for("hubspot"), full=True)
    assert rerun.counts["deal"]["unchanged"] == size
    return len(queries), run.counts["contact"]["created"], len(again)


def test_it_spends_the_same_queries_on_a_page_of_40_and_a_page_of_45(hubspot, monkeypatch):
    # 45: HubSpot lists at most 50 deals a page when their stage history comes with them.
    # Both sizes record over 100 events a page, which PostgreSQL takes by COPY: one path.
    # Django splits a bulk insert at SQLite's old limit of 999 variables a statement; the
    # SQLite Cue needs (3.35+) takes 32766, so the page's inserts are counted unsplit.
    monkeypatch.setattr(connection.features, "max_query_params", 32766)
    deal_stages_map()
    queries_of_a_full_sync(hubspot, 2, start=0)  # a first run also sets up the connection
    small, small_people, small_again = queries_of_a_full_sync(hubspot, 40, start=100)
    large, large_people, large_again = queries_of_a_full_sync(hubspot, 45, start=200)

    assert (small_people, large_people) == (40, 45)
    assert large == small
    assert large_again == small_again
    assert Opportunity.objects.count() == 87
    assert OpportunityStageChange.objects.count() == 174
