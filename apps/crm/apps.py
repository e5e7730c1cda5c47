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
    # Rows owed to a CRM are pushed after commit; this sweep picks up the ones deferred.
    periodic_tasks = {
        "crm sync in": {"task": "crm.sync_in_all", "every": 300},
        "crm push": {"task": "crm.push_all", "every": 60},
        "crm sync log retention": {"task": "crm.sync_log_prune", "every": 24 * 3600},
    }

    def ready(self) -> None:
        from apps.consent.hooks import consent_change_handler_register
        from apps.crm.erasure import crm_erasure_parts_register
        from apps.crm.push import outbox
        from apps.routing.hooks import task_change_handler_register
        from apps.sends.hooks import (
            link_click_handler_register,
            message_outcome_handler_register,
            reply_handler_register,
        )

        crm_erasure_parts_register()
        listening = outbox.crm_listening
        task_change_handler_register("crm", outbox.tasks_changed, listening=listening)
        message_outcome_handler_register("crm", outbox.messages_outcome, listening=listening)
        reply_handler_register("crm", outbox.replies_received, listening=listening)
        link_click_handler_register("crm", outbox.links_clicked, listening=listening)
        consent_change_handler_register("crm", outbox.consent_changed, listening=listening)
