"""Admin for the CRM core, one module per area."""

from apps.contacts.admin import crm, segments, stages  # noqa: F401
