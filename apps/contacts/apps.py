from django.apps import AppConfig


class ContactsConfig(AppConfig):
    """The CRM core: contacts, companies, opportunities, events and segments."""

    name = "apps.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    periodic_tasks = {
        "hand off unhandled events": {"task": "contacts.events_sweep", "every": 60},
        "fade intent scores": {"task": "contacts.intent_scores_recompute", "every": 3600},
    }

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.contacts.erasure.parts import contacts_erasure_parts_register
        from apps.contacts.merge import merge_timeline_entries
        from apps.contacts.pii import pii_attributes_mask
        from apps.contacts.segments.stage_names import stage_users_register
        from apps.contacts.selectors import timeline_source_register
        from apps.core.logs import log_masker_register

        log_masker_register("contacts.pii_attributes", pii_attributes_mask)
        timeline_source_register("contacts.merges", merge_timeline_entries)
        contacts_erasure_parts_register()
        stage_users_register()
        # Every stage Cue reads is data: an empty install (or a test database just flushed)
        # gets the default stages back, as the accounts app does with its role groups.
        post_migrate.connect(_stages_seed_after_migrate, sender=self)


def _stages_seed_after_migrate(sender, **kwargs) -> None:
    from apps.contacts.stage_defaults import stages_seed

    stages_seed()
