from datetime import UTC, datetime

import pytest
import time_machine

from apps.sends.caps import caps_defaults_ensure
from apps.sends.models import FrequencyCap

# Tuesday 16:00 UTC: 11:00 in Chicago, inside every quiet-hours window.
MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def caps(db):
    caps_defaults_ensure(FrequencyCap)
    FrequencyCap.objects.update(is_active=False)  # journeys' own rules are under test here


@pytest.fixture
def clock():
    with time_machine.travel(MIDDAY, tick=False) as traveller:
        yield traveller
