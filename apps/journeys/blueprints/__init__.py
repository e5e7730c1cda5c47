"""Six ready-made journeys from the source articles, loadable in one click as drafts.

Each SMS does one job next to email and sales: remind before a webinar, confirm a demo
request while a rep calls, nudge a stalled high-intent prospect once, follow an email only
if it was not clicked, help a new customer through one onboarding step, and win back a
churned customer who shows interest again. Send steps name library templates by their demo
slug ("@webinar-reminder"); loading looks them up by name and leaves the template empty
(a problem the builder shows) when the library does not have it.

Loading twice makes a second draft named "… (2)": a blueprint is a starting point, and
two teams may start from the same one.
"""

from apps.journeys.blueprints.catalog import BLUEPRINTS, SEGMENTS, Blueprint, blueprint_templates
from apps.journeys.blueprints.loading import (
    BlueprintLoad,
    blueprint_get,
    blueprint_load,
    template_names,
)

__all__ = [
    "BLUEPRINTS",
    "SEGMENTS",
    "Blueprint",
    "BlueprintLoad",
    "blueprint_get",
    "blueprint_load",
    "blueprint_templates",
    "template_names",
]
