"""The demo workspace. Each app may have a `demo.py` with `seed(workspace: dict)`; they run
in INSTALLED_APPS order (lowest first), so an app can use what the apps below it made."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps as django_apps
from django.db import transaction


def demo_seeders() -> list:
    seeders = []
    for app_config in django_apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        module_name = f"{app_config.name}.demo"
        if app_config.name != "apps.core" and find_spec(module_name):
            seeders.append(import_module(module_name).seed)
    return seeders


@transaction.atomic
def demo_seed() -> dict:
    """Builds (or brings up to date) the demo workspace. Running it twice changes nothing."""
    workspace: dict = {"logins": []}
    for seed in demo_seeders():
        seed(workspace)
    return workspace
