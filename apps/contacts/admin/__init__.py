"""Admin for the CRM core, one module per area."""

from apps.contacts.admin import crm, failures, segments, stages  # noqa: F401
