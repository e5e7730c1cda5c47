"""Admin for the send pipeline: read-only records of what was sent, why and what came back,
and the two configuration tables (frequency caps, keyword rules) with their history."""

from apps.sends.admin import config, links, messages  # noqa: F401
