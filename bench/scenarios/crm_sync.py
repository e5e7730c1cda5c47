"""CRM → Cue: a full sync of 100k contacts, 10k companies and 20k deals (2–3 stage moves
each) from the fake HubSpot and the fake Salesforce (HTTPS), vs a raw bulk load of the same
rows into the same tables; then an incremental sync of 1,000 changes among them.

The fakes run in a process of their own and answer at once, so the figure is Cue's side:
the adapter's requests and decoding, and every row Cue writes (contacts, their ids and
history rows, companies, opportunities with their stage moves, events, links). The
baseline loads exactly the rows the sync wrote, read back from the database, by COPY
(PostgreSQL) or executemany (SQLite) in one transaction.
"""

import time

import requests
from django.contrib.auth import get_user_model
from django.db import connection

from apps.contacts.models import Contact, Opportunity, OpportunityStageChange, PipelineStage
from apps.crm.connections import crm_fields_mapped
from apps.crm.hubspot import HubSpotAdapter
from apps.crm.mapping_defaults import mappings_seed
from apps.crm.models import StageMapping, SyncRun
from apps.crm.salesforce import SalesforceAdapter, SalesforceConnection, SalesforceCredentials
from apps.crm.sync.engine import sync_in
from bench import crm_worlds
from bench.fake_process import FakeProcess
from bench.harness import Figure, best_of, scaled
from bench.table_rows import TableRows

CHANGES = scaled(1000)
OBJECT_TYPES = ("company", "lead", "contact", "deal")  # owners are read whole on every run
TARGET = "≤ 5x raw (the CRM's paging excluded: the fake answers at once)"


def run() -> list[Figure]:
    sizes = crm_worlds.Sizes(scaled(100_000), scaled(10_000), scaled(20_000))
    _users_create()
    mappings_seed()
    figures = []
    for system, make, seed, adapter_make in (
        ("hubspot", crm_worlds.hubspot_start, crm_worlds.hubspot_seed, _hubspot_adapter),
        ("salesforce", crm_worlds.salesforce_start, crm_worlds.salesforce_seed, _sf_adapter),
    ):
        _stage_mappings(system)
        with FakeProcess(make) as fake:
            address = fake.call(seed, sizes)
            figures += _system_bench(system, sizes, fake, adapter_make(address))
    return figures


def _system_bench(system: str, sizes, fake: FakeProcess, adapter) -> list[Figure]:
    label = "HubSpot" if system == "hubspot" else "Salesforce"
    rows = TableRows.before()
    started = time.perf_counter()
    full = sync_in(adapter=adapter, full=True)
    full_seconds = time.perf_counter() - started
    _full_check(system, full, sizes)
    rows.written_read()
    changed_ids = fake.call(crm_worlds.CHANGE_FUNCTIONS[system], CHANGES)
    requests_before = fake.call(crm_worlds.requests_count)
    started = time.perf_counter()
    incremental = sync_in(adapter=adapter, full=False)
    incremental_seconds = time.perf_counter() - started
    requests_made = fake.call(crm_worlds.requests_count) - requests_before
    returned = _records_returned(incremental)
    _incremental_check(system, incremental, changed_ids)
    raw = best_of(rows.load, runs=2, setup=rows.delete)
    rows.delete()
    name = "COPY" if connection.vendor == "postgresql" else "executemany"
    return [
        Figure(
            f"{label} full sync: {sizes.contacts} contacts, {sizes.companies} companies, "
            f"{sizes.deals} deals, {rows.total} rows written",
            full_seconds,
            "s",
            f"raw {name} of the same {rows.total} rows",
            raw,
            target=TARGET,
        ),
        Figure(
            f"{label} incremental sync of {CHANGES} changes among {sizes.contacts}",
            incremental_seconds,
            "s",
            "the full sync",
            full_seconds,
            target="reported (a small fraction of the full sync)",
        ),
        Figure(
            f"{label} incremental: records the adapter returned ({requests_made} requests, "
            "owners not counted: read whole every run)",
            returned,
            "records",
            "records changed in the CRM",
            CHANGES,
            target="= 1x (reads only what changed)",
        ),
    ]


def _hubspot_adapter(base_url: str) -> HubSpotAdapter:
    return HubSpotAdapter(
        access_token=crm_worlds.HUBSPOT_TOKEN,
        base_url=base_url,
        timeout=60,
        max_retry_wait=0,
        properties=crm_fields_mapped("hubspot"),
    )


def _sf_adapter(address: tuple[str, str]) -> SalesforceAdapter:
    base_url, ca_path = address
    session = requests.Session()
    session.verify, session.trust_env = ca_path, False
    credentials = SalesforceCredentials(
        login_url=base_url,
        client_id=crm_worlds.SF_CLIENT_ID,
        client_secret=crm_worlds.SF_CLIENT_SECRET,
        refresh_token=crm_worlds.SF_REFRESH_TOKEN,
    )
    connection_ = SalesforceConnection(
        credentials, session=session, timeout=60, max_retry_wait=0, sleep=time.sleep
    )
    return SalesforceAdapter(connection_, properties=crm_fields_mapped("salesforce"))


def _users_create() -> None:
    """The CRM owners' Cue users (same emails): every record then has its owner."""
    for email in crm_worlds.OWNER_EMAILS:
        get_user_model().objects.create_user(username=email.split("@")[0], email=email)


def _stage_mappings(system: str) -> None:
    stages = {s.key: s for s in PipelineStage.objects.filter(pipeline__key="sales")}
    for crm_pipeline, crm_stage, key in crm_worlds.DEAL_STAGES[system]:
        StageMapping.objects.get_or_create(
            system=system,
            kind="deal",
            crm_pipeline=crm_pipeline,
            crm_stage=crm_stage,
            defaults={"pipeline_stage": stages[key]},
        )


def _full_check(system: str, run: SyncRun, sizes) -> None:
    """The sync took every record once, with every stage move: a faster sync that lost
    rows would be no result."""
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{system} full sync {run.status}: {run.error}")
    contacts = Contact.objects.filter(external_ids__source=system).count()
    deals = Opportunity.objects.filter(recordlink__system=system).count()
    moves = OpportunityStageChange.objects.filter(opportunity__recordlink__system=system).count()
    expected = (sizes.contacts, sizes.deals, crm_worlds.stage_moves(sizes.deals))
    failed = {t: c.get("failed", 0) for t, c in run.counts.items() if c.get("failed")}
    if (contacts, deals, moves) != expected or failed:
        raise RuntimeError(
            f"{system} full sync stored {contacts} contacts, {deals} deals, {moves} stage "
            f"moves (expected {expected}); failed: {failed}"
        )


def _records_returned(run: SyncRun) -> int:
    return sum(sum(run.counts.get(t, {}).values()) for t in OBJECT_TYPES)


def _incremental_check(system: str, run: SyncRun, changed_ids: list[str]) -> None:
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{system} incremental sync {run.status}: {run.error}")
    renamed = Contact.objects.filter(
        external_ids__source=system,
        external_ids__value__in=changed_ids,
        last_name__startswith=crm_worlds.CHANGED_NAME,
    ).count()
    if renamed != len(changed_ids):
        raise RuntimeError(f"{system} incremental sync took {renamed} of {len(changed_ids)}")
