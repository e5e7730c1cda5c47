"""Helpers shared by the Salesforce tests: the adapter pointed at a running fake over
real HTTPS, with the fake's CA trusted and the waits recorded instead of slept."""

from datetime import UTC, datetime, timedelta

from apps.crm.salesforce import SalesforceAdapter, SalesforceConnection, SalesforceCredentials
from apps.crm.testing.fake_salesforce import FakeSalesforce

T0 = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def adapter_for(
    fake: FakeSalesforce,
    sleeps: list[float],
    *,
    client_secret: str | None = None,
    timeout: float = 5.0,
    max_retry_wait: float = 120.0,
    properties: dict | None = None,
    task_key_field: str = "",
    clock=None,
) -> SalesforceAdapter:
    credentials = SalesforceCredentials(
        login_url=fake.base_url,
        client_id=fake.client_id,
        client_secret=fake.client_secret if client_secret is None else client_secret,
        refresh_token=fake.refresh_token,
        api_version="62.0",
    )
    connection = SalesforceConnection(
        credentials,
        session=fake.client_session(),
        timeout=timeout,
        max_retry_wait=max_retry_wait,
        sleep=sleeps.append,
    )
    adapter = SalesforceAdapter(connection, properties=properties, task_key_field=task_key_field)
    if clock is not None:
        adapter.clock = clock
    return adapter


def data_requests(fake: FakeSalesforce, kind: str) -> list:
    """Requests to one data resource ("query", "queryAll", "sobjects", "composite")."""
    return [request for request in fake.requests if f"/{kind}" in request.path]
