"""Attribution reads the customer's pipeline (what is a forward move, what is won) and
measures its windows from when a stage changed in the source system, not when Cue heard."""

from datetime import timedelta

import pytest

from apps.contacts.services import opportunity_upsert
from apps.reporting.models import Attribution, AttributionModel
from apps.reporting.services.attribution import attribution_rebuild
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen
from tests.stages import enterprise_pipeline

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def rebuild() -> list[tuple]:
    attribution_rebuild(start=T - 30 * DAY, end=T + DAY)
    return list(
        Attribution.objects.order_by("kind", "converted_at").values_list(
            "kind", "message_id", "touch_type", "touched_at", "converted_at", "credit"
        )
    )


@pytest.fixture
def last_click(rules):
    """Last touch, clicks only, in a 5-day window (the default)."""
    rules.model, rules.count_deliveries, rules.count_replies = (
        AttributionModel.LAST_TOUCH,
        False,
        False,
    )
    rules.save()
    assert rules.click_window_hours == 120


def test_a_late_stage_change_is_attributed_from_when_it_happened(scenario, last_click):
    """A deal signed in the CRM three days ago, heard of today: the click four days ago is
    one day before it (inside 5 days); yesterday's click came after it and counts not."""
    enterprise = enterprise_pipeline()
    contact = scenario.contact()
    early = scenario.message(contact, sent_at=T - 5 * DAY)
    late = scenario.message(contact, sent_at=T - 2 * DAY, step=1)
    scenario.click(early, T - 4 * DAY)
    scenario.click(late, T - DAY)
    deal = {"external_id": "e-1", "name": "Fleet", "contact": contact, "pipeline": enterprise}
    with frozen(T - 20 * DAY):
        opportunity_upsert(**deal, stage="disc", amount=5000)
    with frozen(T):
        opportunity_upsert(**deal, stage="signed", amount=5000, stage_changed_at=T - 3 * DAY)

    assert rebuild() == [
        ("closed_won", early.pk, "click", T - 4 * DAY, T - 3 * DAY, 1.0),
        ("stage_progression", early.pk, "click", T - 4 * DAY, T - 3 * DAY, 1.0),
    ]


def test_moves_back_and_to_a_lost_stage_are_no_progression(scenario, last_click):
    enterprise = enterprise_pipeline()
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=T - 5 * DAY)
    scenario.click(message, T - 4 * DAY)
    deal = {"external_id": "e-1", "name": "Fleet", "contact": contact, "pipeline": enterprise}
    with frozen(T - 20 * DAY):
        opportunity_upsert(**deal, stage="nego")
    for stage, at in (("disc", T - 3 * DAY), ("nego", T - 2 * DAY), ("dropped", T - DAY)):
        with frozen(T):
            opportunity_upsert(**deal, stage=stage, stage_changed_at=at)

    assert rebuild() == [
        ("stage_progression", message.pk, "click", T - 4 * DAY, T - 2 * DAY, 1.0),  # disc → nego
    ]
