"""Admin for the template library: templates with their workflow, and read-only records."""

from apps.library.admin import templates, versions  # noqa: F401
