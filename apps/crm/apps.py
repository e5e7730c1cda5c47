from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Connectors to HubSpot and Salesforce, both directions.

    The highest app: it writes through contacts' identity service and services, and hears
    about tasks, message outcomes and consent changes through the registrations the lower
    apps offer, which it joins in `ready()`. No lower app imports it.
    """

    name = "apps.crm"
    label = "crm"
    verbose_name = "CRM connectors"
    # Incremental CRM → Cue sync of every connected CRM (nothing when none is connected).
    periodic_tasks = {"crm sync in": {"task": "crm.sync_in_all", "every": 300}}
