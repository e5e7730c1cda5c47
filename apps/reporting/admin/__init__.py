"""Reporting in the admin: the dashboard (the admin index), settings, attribution and
rollups (read-only, with exports), the fatigue guard's breaches, audit reports, the
consolidated audit trail and retention runs."""

from apps.reporting.admin import audit, facts, settings  # noqa: F401 - registers the admins
