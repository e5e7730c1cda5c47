"""The demo's reports: attribution and daily rollups of whatever the demo workspace holds,
built as the beat would build them. Running it again recomputes the same days."""

from apps.reporting.models import AttributionSettings, FatigueSettings
from apps.reporting.services.rollups import reporting_refresh


def seed(workspace: dict) -> None:
    AttributionSettings.current()
    FatigueSettings.current()
    workspace["reporting_days"] = reporting_refresh()
