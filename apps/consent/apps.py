from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """The append-only consent ledger, current consent state, preferences and suppression."""

    name = "apps.consent"
    label = "consent"
    verbose_name = "Consent"
