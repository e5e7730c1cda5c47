from django.apps import AppConfig


class LibraryConfig(AppConfig):
    """Message templates with immutable versions and their approval workflow."""

    name = "apps.library"
    label = "library"
    verbose_name = "Template library"
