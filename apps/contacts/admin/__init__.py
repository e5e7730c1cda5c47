"""Admin for the CRM core, one module per area."""

from apps.contacts.admin import crm, data_subject, failures, segments, stages  # noqa: F401
