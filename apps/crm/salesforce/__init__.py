"""Cue's Salesforce connector: the adapter (adapter.py), the authenticated connection and
its waiting rules (connection.py), and the SOQL and record shapes (records.py).

Configured by environment alone (SALESFORCE_* settings); `salesforce_adapter()` builds
the adapter from them. To talk to the fake Salesforce of the tests by hand, trust its CA
with REQUESTS_CA_BUNDLE (see apps/crm/testing/fake_salesforce).
"""

import time
from collections.abc import Callable, Mapping, Sequence

import requests
from django.conf import settings

from apps.crm.adapters import CrmAuthError

from .adapter import SalesforceAdapter
from .connection import SalesforceConnection, SalesforceCredentials


def salesforce_configured() -> bool:
    return bool(settings.SALESFORCE_CLIENT_ID and settings.SALESFORCE_REFRESH_TOKEN)


def salesforce_adapter(
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    properties: Mapping[str, Sequence[str]] | None = None,
) -> SalesforceAdapter:
    """The Salesforce adapter as the environment configures it; CrmAuthError when the
    connection is off. `properties`: more fields to read per object type."""
    if not salesforce_configured():
        raise CrmAuthError(
            "Salesforce is not configured: set SALESFORCE_CLIENT_ID and SALESFORCE_REFRESH_TOKEN"
        )
    credentials = SalesforceCredentials(
        login_url=settings.SALESFORCE_LOGIN_URL,
        client_id=settings.SALESFORCE_CLIENT_ID,
        client_secret=settings.SALESFORCE_CLIENT_SECRET,
        refresh_token=settings.SALESFORCE_REFRESH_TOKEN,
        instance_url=settings.SALESFORCE_INSTANCE_URL,
        api_version=settings.SALESFORCE_API_VERSION,
    )
    connection = SalesforceConnection(
        credentials,
        session=session,
        timeout=settings.CRM_TIMEOUT_SECONDS,
        max_retry_wait=settings.CRM_MAX_RETRY_WAIT_SECONDS,
        sleep=sleep,
    )
    return SalesforceAdapter(
        connection,
        properties=properties,
        task_key_field=settings.SALESFORCE_TASK_KEY_FIELD,
        time_zone=settings.SALESFORCE_TIME_ZONE or settings.CUE_ROUTING_BUSINESS_HOURS["time_zone"],
    )


__all__ = [
    "SalesforceAdapter",
    "SalesforceConnection",
    "SalesforceCredentials",
    "salesforce_adapter",
    "salesforce_configured",
]
