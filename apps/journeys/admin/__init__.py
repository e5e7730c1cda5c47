"""Admin for journeys: the builder with its tools, and read-only enrollments and activity."""

from apps.journeys.admin import enrollments, journeys  # noqa: F401
