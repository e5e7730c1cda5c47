"""Admin for the CRM connectors: one page per connection (its state, runs, failed records,
"sync now", retries and the dry run) and the field and stage mappings."""

from apps.crm.admin import connection, mappings  # noqa: F401
