"""Which CRMs are connected (by the environment alone) and the adapter that talks to each.

The vendor packages are imported only here and only when a connection is used, so Cue
runs without a CRM configured."""

from importlib import import_module

from django.conf import settings

from apps.crm.adapters import CrmAdapter, CrmAuthError
from apps.crm.models import FieldMapping, System

# The function of each vendor package that builds its adapter from the settings.
_ADAPTER_FACTORIES = {
    System.HUBSPOT: ("apps.crm.hubspot", "hubspot_adapter_from_settings"),
    System.SALESFORCE: ("apps.crm.salesforce", "salesforce_adapter"),
}


def connection_configured(system: str) -> bool:
    if system == System.HUBSPOT:
        return bool(settings.HUBSPOT_ACCESS_TOKEN)
    if system == System.SALESFORCE:
        return bool(settings.SALESFORCE_CLIENT_ID and settings.SALESFORCE_REFRESH_TOKEN)
    return False


def connection_missing(system: str) -> list[str]:
    """The settings a connection still needs, by name (for the admin page)."""
    if system == System.HUBSPOT:
        return [] if settings.HUBSPOT_ACCESS_TOKEN else ["HUBSPOT_ACCESS_TOKEN"]
    wanted = ("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_REFRESH_TOKEN")
    return [name for name in wanted if not getattr(settings, name)]


def adapter_for(system: str) -> CrmAdapter:
    if not connection_configured(system):
        missing = ", ".join(connection_missing(system))
        raise CrmAuthError(f"{System(system).label} is not connected: set {missing}.")
    module, factory = _ADAPTER_FACTORIES[system]
    # The adapter reads the fields its own defaults name and every field a mapping names.
    return getattr(import_module(module), factory)(properties=crm_fields_mapped(system))


def crm_fields_mapped(system: str) -> dict[str, list[str]]:
    """{object type: the CRM fields the mappings read or write}."""
    fields: dict[str, list[str]] = {}
    rows = FieldMapping.objects.filter(system=system).values_list("object_type", "crm_field")
    for object_type, crm_field in rows.order_by("object_type", "crm_field"):
        fields.setdefault(object_type, []).append(crm_field)
    return fields
