from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """The append-only consent ledger, current consent state, preferences and suppression."""

    name = "apps.consent"
    label = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from apps.consent.erasure import consent_erasure_parts_register
        from apps.consent.merge import consent_merge_parts_register
        from apps.consent.proof import consent_timeline_entries
        from apps.consent.segment_conditions import consent_condition_register
        from apps.consent.services import consent_on_address_change
        from apps.contacts.selectors import timeline_source_register
        from apps.contacts.services import address_change_handler_register

        timeline_source_register("consent", consent_timeline_entries)
        address_change_handler_register("consent", consent_on_address_change)
        consent_condition_register()
        consent_merge_parts_register()
        consent_erasure_parts_register()
