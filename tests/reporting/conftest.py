from datetime import UTC, datetime

import pytest

from apps.reporting.models import AttributionSettings
from tests.reporting.scenario import Scenario, frozen

# A Tuesday, 16:00 UTC: 11:00 in Chicago, 9:00 in Los Angeles — inside quiet-hours windows.
T = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BUILT_AT = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)  # templates approved well before


@pytest.fixture
def scenario(db):
    """A journey with two approved SMS steps, built (and approved) on BUILT_AT."""
    with frozen(BUILT_AT):
        return Scenario()


@pytest.fixture
def rules(db):
    """The attribution settings row, to adjust per test."""
    return AttributionSettings.current()
