"""Admin for consent, one module per area."""

from apps.consent.admin import imports, ledger  # noqa: F401
