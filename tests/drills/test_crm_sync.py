"""Drills for the CRM → Cue sync: the sync process killed inside a page, a CRM that answers
429 for a minute, and a Salesforce token that expires mid-sync. Each ends with every CRM
record in Cue exactly once and every stage move recorded once.

The kill drill runs `manage.py crm_sync hubspot --full` as a real process against the test
database (PostgreSQL) and SIGKILLs it while a page's transaction is open: the test holds
the lock of the row the page writes last (its cursor), waits until the process is seen
waiting for it, then kills. The other two run the sync in the test process, with the
adapter's waits moving the fake's own clock, so "a minute" passes without waiting one.
"""

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from apps.contacts.models import (
    ContactExternalId,
    Opportunity,
    OpportunityStageChange,
    PipelineStage,
)
from apps.crm.connections import crm_fields_mapped
from apps.crm.hubspot import HubSpotAdapter
from apps.crm.mapping_defaults import mappings_seed
from apps.crm.models import Connection, RecordLink, StageMapping, SyncCursor, SyncRun
from apps.crm.sync.engine import sync_in
from apps.crm.testing.fake_hubspot import FakeHubSpot
from apps.crm.testing.fake_salesforce import FakeSalesforce
from tests import workers
from tests.drills.conftest import ON_POSTGRESQL
from tests.workers import ROOT, celery_process, wait_for

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
PAGE = 50  # HubSpot's list page of deals with their stage history, a full sync's first phase
STORED = 10 * PAGE  # records the killed sync writes in one transaction
PEOPLE, DEALS = 300, 1500
HUBSPOT_STAGES = [("appointmentscheduled", "discovery"), ("qualifiedtobuy", "demo")]
SALESFORCE_STAGES = [("Prospecting", "discovery"), ("Qualification", "demo")]


def stages_map(system: str, pipeline: str, pairs: list[tuple[str, str]]) -> None:
    stages = {s.key: s for s in PipelineStage.objects.filter(pipeline__key="sales")}
    for crm_stage, key in pairs:
        StageMapping.objects.create(
            system=system, kind="deal", crm_pipeline=pipeline, crm_stage=crm_stage,
            pipeline_stage=stages[key],
        )  # fmt: skip


def hubspot_world(fake: FakeHubSpot, people: int, deals: int) -> None:
    """People each with a number of their own; deals with two stage moves at HubSpot's
    times, each with a person."""
    contacts = fake.records_seed(
        "contacts",
        people,
        properties=lambda i: {
            "firstname": f"P{i}",
            "email": f"p{i}@drill.test",
            "phone": f"+1415555{i:04d}",
        },
        modified_at=T0,
    )

    def deal(i: int) -> dict:
        entered = [T0 + timedelta(days=1, seconds=i), T0 + timedelta(days=3, seconds=i)]
        return {
            "dealname": f"D{i}",
            "amount": "100",
            "pipeline": "default",
            "dealstage": "qualifiedtobuy",
            "hs_date_entered_appointmentscheduled": entered[0].isoformat(),
            "hs_date_entered_qualifiedtobuy": entered[1].isoformat(),
        }

    ids = fake.records_seed("deals", deals, properties=deal, modified_at=T0)
    for index, deal_id in enumerate(ids):
        fake.associate("deals", deal_id, "contacts", contacts[index % len(contacts)])


def each_record_once(system: str, people: int, deals: int) -> None:
    ids = ContactExternalId.objects.filter(source=system)
    assert ids.count() == people
    assert ids.values("value").distinct().count() == people
    assert ids.values("contact").distinct().count() == people
    assert RecordLink.objects.filter(system=system, object_type="deal").count() == deals
    assert Opportunity.objects.count() == deals
    moves = OpportunityStageChange.objects.values("opportunity", "to_stage", "changed_at")
    assert not moves.annotate(n=Count("id")).filter(n__gt=1).exists()
    assert OpportunityStageChange.objects.count() == 2 * deals


# The sync process killed inside a page


def hubspot_env(fake: FakeHubSpot) -> dict[str, str]:
    return {
        "HUBSPOT_ACCESS_TOKEN": fake.token,
        "HUBSPOT_API_BASE_URL": fake.base_url,
        "SALESFORCE_CLIENT_ID": "",
        "SALESFORCE_REFRESH_TOKEN": "",
    }


def waiting_for_the_cursor_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%crm_synccursor%"],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRESQL, reason="a real sync process against PostgreSQL")
def test_a_sync_killed_inside_a_page_is_finished_by_the_next_run_with_each_record_once():
    mappings_seed()
    stages_map("hubspot", "default", HUBSPOT_STAGES)
    with FakeHubSpot() as fake, psycopg.connect(workers.test_database_url()) as blocker:
        hubspot_world(fake, PEOPLE, DEALS)
        command = [sys.executable, "manage.py", "crm_sync", "hubspot", "--full"]
        # Ten deal pages a transaction: the kill falls between two of its three.
        env = {**hubspot_env(fake), "CRM_SYNC_STORE_RECORDS": str(STORED)}
        with celery_process(
            command, queue="crm-drill", env=env, log_name="test-crm-sync-killed"
        ) as process:
            deal_cursor = SyncCursor.objects.filter(system="hubspot", object_type="deal")
            assert wait_for(deal_cursor.exists, timeout=120, interval=0.01), "no deal page"
            # The next page writes its rows, then waits here for its cursor row, inside its
            # transaction.
            blocker.execute(
                "SELECT 1 FROM crm_synccursor WHERE system = 'hubspot' AND object_type = 'deal' "
                "FOR UPDATE"
            )
            assert wait_for(waiting_for_the_cursor_lock, timeout=60, interval=0.01)
            committed = Opportunity.objects.count()
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        blocker.rollback()

        # The killed page's rows are gone with its transaction: only whole pages were kept.
        assert Opportunity.objects.count() == committed < DEALS
        assert committed % STORED == 0
        assert SyncRun.objects.get().status == SyncRun.Status.RUNNING  # it never said so
        # Ten minutes later its lease has lapsed, and the next scheduled run starts.
        Connection.objects.filter(system="hubspot").update(
            sync_lease_until=timezone.now() - timedelta(seconds=1)
        )
        again = subprocess.run(
            [sys.executable, "manage.py", "crm_sync", "hubspot"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": workers.test_database_url(), **hubspot_env(fake)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert again.returncode == 0, again.stderr[-2000:]
    each_record_once("hubspot", PEOPLE, DEALS)
    runs = list(SyncRun.objects.order_by("id").values_list("status", flat=True))
    assert runs == [SyncRun.Status.STOPPED, SyncRun.Status.SUCCEEDED]


# A CRM that answers 429 for a minute


class FakeClock:
    """The fake's clock, moved by the adapter's waits instead of the wall clock."""

    def __init__(self):
        self.now = datetime.now(UTC).timestamp()
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.mark.django_db
def test_a_hubspot_that_answers_429_for_a_minute_is_waited_out_and_the_sync_finishes():
    mappings_seed()
    stages_map("hubspot", "default", HUBSPOT_STAGES)
    clock = FakeClock()
    deal_lists = []

    def limit_at_the_third_deal_page(request) -> None:
        if request.path.endswith("/objects/deals") and request.status == 200:
            deal_lists.append(request)
            if len(deal_lists) == 3:
                fake.rate_limit(seconds=60)

    with FakeHubSpot(clock=clock, on_request=limit_at_the_third_deal_page) as fake:
        hubspot_world(fake, 200, 600)
        adapter = HubSpotAdapter(
            access_token=fake.token,
            base_url=fake.base_url,
            timeout=10,
            max_retry_wait=120,
            properties=crm_fields_mapped("hubspot"),
            sleep=clock.sleep,
        )
        run = sync_in(adapter=adapter, full=True)
        refused = [r for r in fake.requests if r.status == 429]

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert clock.waits == [60.0]  # one wait, as long as HubSpot said
    assert len(refused) == 1
    each_record_once("hubspot", 200, 600)


# A Salesforce access token that expires mid-sync


@pytest.mark.django_db
def test_a_salesforce_token_that_expires_mid_sync_is_refreshed_once_and_the_sync_finishes():
    from apps.crm.salesforce import (
        SalesforceAdapter,
        SalesforceConnection,
        SalesforceCredentials,
    )

    mappings_seed()
    stages_map("salesforce", "opportunity", SALESFORCE_STAGES)
    with FakeSalesforce() as fake:
        user = fake.seed("User", [{"LastName": "Rep", "Email": "rep@drill.test"}])[0]
        people = fake.seed(
            "Contact",
            [
                {"LastName": f"P{i}", "Email": f"p{i}@drill.test", "OwnerId": user}
                for i in range(300)
            ],
            at=T0,
        )
        deals = fake.seed(
            "Opportunity",
            [
                {"Name": f"D{i}", "StageName": "Prospecting", "ContactId": people[i % 300],
                 "CloseDate": "2026-12-31"}
                for i in range(200)
            ],
            at=T0 + timedelta(days=1),
        )  # fmt: skip
        for deal in deals:
            fake.modify("Opportunity", deal, at=T0 + timedelta(days=3), StageName="Qualification")
        fake.expire_token_after(4)  # a few pages in
        credentials = SalesforceCredentials(
            login_url=fake.base_url,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            refresh_token=fake.refresh_token,
        )
        sleeps: list[float] = []
        adapter = SalesforceAdapter(
            SalesforceConnection(
                credentials,
                session=fake.client_session(),
                timeout=10,
                max_retry_wait=0,
                sleep=sleeps.append,
            ),
            properties=crm_fields_mapped("salesforce"),
        )
        run = sync_in(adapter=adapter, full=True, page_size=50)
        token_requests = fake.token_requests
        refused = [r for r in fake.requests if r.status == 401]

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert token_requests == 2  # the first token, and one refresh
    assert len(refused) == 1
    assert sleeps == []
    each_record_once("salesforce", 300, 200)
