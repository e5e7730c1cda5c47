"""Admin for the CRM core, one module per area."""

from apps.contacts.admin import (  # noqa: F401
    crm,
    data_subject,
    failures,
    opportunity_imports,
    segments,
    stages,
)
