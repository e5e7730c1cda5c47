"""A fake Salesforce org on 127.0.0.1, over HTTPS, for tests and local runs.

simple-salesforce always speaks https, so the fake serves TLS with a certificate from a
throwaway certificate authority it makes at start (trustme). A client trusts it through
the CA file at `FakeSalesforce.ca_path`: tests pass `fake.client_session()` (a requests
session with `verify` set) to the adapter; a person running Cue against it by hand
exports REQUESTS_CA_BUNDLE, which requests reads for every session.

It serves what Cue's Salesforce adapter uses, in Salesforce's documented shapes: the
OAuth2 refresh-token grant (`POST /services/oauth2/token`), SOQL `query` and `queryAll`
over a small SOQL subset (anything else is MALFORMED_QUERY) with `nextRecordsUrl` paging,
sObject create/update/fetch, describe, and `composite/sobjects`. Tests can script
REQUEST_LIMIT_EXCEEDED, 429 with Retry-After, 5xx, slow answers, validation errors per
record and an access token that expires mid-run.

Run it by hand with:

    python -m apps.crm.testing.fake_salesforce --port 8097 --seed-contacts 100

It prints the CA file to trust and the environment to point Cue at it.
"""

from .server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    FakeSalesforce,
    RecordedRequest,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REFRESH_TOKEN",
    "FakeSalesforce",
    "RecordedRequest",
]
