"""Helpers shared by the HubSpot tests: the adapter pointed at a running fake HubSpot over
real HTTP, with its waits recorded instead of slept."""

from datetime import UTC, datetime, timedelta

from apps.crm.adapters import CrmRecord
from apps.crm.hubspot import HubSpotAdapter
from apps.crm.testing.fake_hubspot import FakeHubSpot

T0 = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
# Far enough past that the adapter's settle margin (30 s behind its clock) never applies.
MAX_PAGES = 2_000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def adapter_for(
    fake: FakeHubSpot,
    sleeps: list[float],
    *,
    token: str | None = None,
    timeout: float = 5.0,
    max_retry_wait: float = 120.0,
    **options,
) -> HubSpotAdapter:
    return HubSpotAdapter(
        access_token=fake.token if token is None else token,
        base_url=fake.base_url,
        timeout=timeout,
        max_retry_wait=max_retry_wait,
        sleep=sleeps.append,
        **options,
    )


def drain(
    adapter: HubSpotAdapter, object_type: str, cursor: dict | None, page_size: int = 100
) -> tuple[list[CrmRecord], dict, int]:
    """Every page until done: (records in order, the final cursor, pages read)."""
    records: list[CrmRecord] = []
    for pages in range(1, MAX_PAGES + 1):
        page = adapter.changes(object_type, cursor, page_size=page_size)
        records.extend(page.records)
        cursor = page.cursor
        if page.done:
            return records, cursor, pages
    raise AssertionError(f"{object_type} changes never reached done")


def ids(records: list[CrmRecord]) -> list[str]:
    return [record.id for record in records]


def searches(fake: FakeHubSpot) -> list:
    return [r for r in fake.requests if r.path.endswith("/search")]
