"""Cue's HubSpot connector: the adapter (through hubspot-api-client) and the v3 webhook
signature check."""

from django.conf import settings

from .adapter import HubSpotAdapter
from .signature import hubspot_signature_valid

__all__ = ["HubSpotAdapter", "hubspot_adapter_from_settings", "hubspot_signature_valid"]


def hubspot_adapter_from_settings(**options) -> HubSpotAdapter:
    """The adapter configured by the environment (HUBSPOT_*, CRM_* settings)."""
    return HubSpotAdapter(
        access_token=settings.HUBSPOT_ACCESS_TOKEN,
        base_url=settings.HUBSPOT_API_BASE_URL,
        timeout=settings.CRM_TIMEOUT_SECONDS,
        max_retry_wait=settings.CRM_MAX_RETRY_WAIT_SECONDS,
        **options,
    )
