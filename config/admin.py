"""Cue's admin site: its index is the dashboard, built by the index view like any page's
context (not by a template tag), with the app list below it."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class CueAdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        # Imported here: this module is loaded with the settings, before any app's models.
        from apps.reporting.dashboard_page import dashboard_render

        context = {**(extra_context or {}), "dashboard": dashboard_render(request)}
        return super().index(request, context)


class CueAdminConfig(AdminConfig):
    default_site = "config.admin.CueAdminSite"
