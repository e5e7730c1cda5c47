"""A fake HubSpot CRM API on 127.0.0.1, for tests and local runs.

The real hubspot-api-client talks to it over real HTTP (HUBSPOT_API_BASE_URL), so the
adapter in apps/crm/hubspot/ runs exactly as against HubSpot. It serves, in HubSpot's
documented shapes: CRM v3 objects (list with `after` paging and archived, read, create,
update, batch create, search with its 200-per-page limit and 10,000-result cap), owners,
deal pipelines, properties and v4 association batch reads; bearer-token auth; scripted
rate limits (429 with Retry-After), 5xx, slow answers, per-record validation errors and an
expired token; and webhooks signed with HubSpot's v3 signature.

Run it by hand with:

    python -m apps.crm.testing.fake_hubspot --port 8098 --token TOKEN [--seed-contacts N]

then set HUBSPOT_API_BASE_URL=http://127.0.0.1:8098 and HUBSPOT_ACCESS_TOKEN=TOKEN.
"""

from .fake import DEFAULT_TOKEN, DEFAULT_WEBHOOK_SECRET, FakeHubSpot
from .http import RecordedRequest
from .schema import PropertyDefinition
from .webhooks import v3_signature

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_WEBHOOK_SECRET",
    "FakeHubSpot",
    "PropertyDefinition",
    "RecordedRequest",
    "v3_signature",
]
