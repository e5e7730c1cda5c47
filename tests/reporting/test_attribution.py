"""The attribution rule on hand-built scenarios: each model, each touch type's window edges,
bots, revenue, progressions, and recomputing a range."""

from datetime import timedelta

import pytest

from apps.reporting.models import Attribution, AttributionModel
from apps.reporting.selectors import attributed_totals
from apps.reporting.services.attribution import attribution_rebuild
from tests.reporting.conftest import T

pytestmark = pytest.mark.django_db

DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)


def rebuild(start=T - 30 * DAY, end=T + DAY) -> list[tuple]:
    attribution_rebuild(start=start, end=end)
    return list(
        Attribution.objects.order_by(
            "kind", "conversion_id", "touched_at", "message_id"
        ).values_list("kind", "message_id", "touch_type", "touched_at", "credit")
    )


@pytest.fixture
def three_touches(scenario, rules):
    """Given a click two days before a meeting, a reply one day before it (on another
    message), and a delivery three hours before it (on a third): a meeting at T."""
    rules.count_deliveries = True
    rules.save()
    contact = scenario.contact()
    first = scenario.message(contact, sent_at=T - 3 * DAY, delivered_at=T - 3 * DAY)
    second = scenario.message(contact, sent_at=T - 26 * HOUR, step=1)
    third = scenario.message(contact, sent_at=T - 3 * HOUR, delivered_at=T - 3 * HOUR)
    scenario.click(first, T - 2 * DAY)
    scenario.reply(second, T - DAY)
    scenario.meeting(contact, T)
    return first, second, third


def test_it_gives_the_last_touch_all_the_credit(three_touches, rules):
    *_, third = three_touches
    rules.model = AttributionModel.LAST_TOUCH
    rules.save()
    assert rebuild() == [("meeting_booked", third.pk, "delivery", T - 3 * HOUR, 1.0)]


def test_it_gives_the_first_touch_all_the_credit(three_touches, rules):
    first, *_ = three_touches
    rules.model = AttributionModel.FIRST_TOUCH
    rules.save()
    assert rebuild() == [("meeting_booked", first.pk, "click", T - 2 * DAY, 1.0)]


def test_it_shares_the_credit_equally_under_linear(three_touches, rules):
    first, second, third = three_touches
    rules.model = AttributionModel.LINEAR
    rules.save()
    third_of_it = pytest.approx(1 / 3)
    assert rebuild() == [
        ("meeting_booked", first.pk, "click", T - 2 * DAY, third_of_it),
        ("meeting_booked", second.pk, "reply", T - DAY, third_of_it),
        ("meeting_booked", third.pk, "delivery", T - 3 * HOUR, third_of_it),
    ]
    # the first message's delivery (three days before) is outside the 12-hour window


def test_it_counts_a_message_clicked_twice_once_under_linear(scenario, rules):
    rules.model, rules.count_deliveries = AttributionModel.LINEAR, False
    rules.save()
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=T - 2 * DAY)
    other = scenario.message(contact, sent_at=T - 2 * DAY, step=1)
    scenario.click(message, T - 2 * DAY + HOUR)
    scenario.click(message, T - DAY)
    scenario.click(other, T - 2 * HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == [
        ("meeting_booked", message.pk, "click", T - DAY, 0.5),
        ("meeting_booked", other.pk, "click", T - 2 * HOUR, 0.5),
    ]


# Each touch type's window, at its edges: (touch, window, just inside?, offset)
EDGES = [
    ("click", 5 * DAY, True, 5 * DAY - SECOND),
    ("click", 5 * DAY, True, 5 * DAY),
    ("click", 5 * DAY, False, 5 * DAY + SECOND),
    ("reply", 5 * DAY, True, 5 * DAY - SECOND),
    ("reply", 5 * DAY, False, 5 * DAY + SECOND),
    ("delivery", 12 * HOUR, True, 12 * HOUR - SECOND),
    ("delivery", 12 * HOUR, True, 12 * HOUR),
    ("delivery", 12 * HOUR, False, 12 * HOUR + SECOND),
    ("click", 5 * DAY, False, -SECOND),  # after the conversion: never
]


@pytest.mark.parametrize(("touch", "window", "inside", "before"), EDGES)
def test_it_attributes_only_within_the_touch_types_window(
    scenario, rules, touch, window, inside, before
):
    rules.count_deliveries = touch == "delivery"
    rules.save()
    contact = scenario.contact()
    touched_at = T - before
    delivered = touched_at if touch == "delivery" else None
    message = scenario.message(contact, sent_at=touched_at - HOUR, delivered_at=delivered)
    if touch == "click":
        scenario.click(message, touched_at)
    elif touch == "reply":
        scenario.reply(message, touched_at)
    scenario.meeting(contact, T)
    expected = [("meeting_booked", message.pk, touch, touched_at, 1.0)] if inside else []
    assert rebuild() == expected


def test_it_never_counts_a_bots_click(scenario, rules):
    rules.count_deliveries = False
    rules.save()
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=T - DAY)
    scenario.click(message, T - HOUR, bot=True)
    scenario.meeting(contact, T)
    assert rebuild() == []


def test_it_ignores_other_contacts_and_messages_outside_journeys(scenario, rules):
    rules.count_deliveries = True
    rules.save()
    contact, stranger = scenario.contact(), scenario.contact()
    scenario.message(stranger, sent_at=T - HOUR, delivered_at=T - HOUR)
    rep_reply = scenario.message(
        contact, sent_at=T - HOUR, delivered_at=T - HOUR, origin="rep_reply"
    )
    scenario.click(rep_reply, T - HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == []


def test_it_attributes_opportunities_progressions_and_revenue(scenario, rules):
    rules.count_deliveries = False
    rules.save()
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=T - DAY)
    scenario.click(message, T - DAY + HOUR)
    scenario.deal(
        contact,
        [("discovery", T), ("demo", T + HOUR), ("discovery", T + 2 * HOUR),
         ("closed_won", T + 3 * HOUR)],
        amount=48000,
    )  # fmt: skip
    lost = scenario.contact()
    lost_message = scenario.message(lost, sent_at=T - DAY)
    scenario.click(lost_message, T - HOUR)
    scenario.deal(lost, [("proposal", T - 30 * HOUR), ("closed_lost", T)], amount=9000)
    rows = rebuild()
    assert [(kind, message_id) for kind, message_id, *_ in rows] == [
        ("closed_won", message.pk),
        ("opportunity_created", message.pk),
        ("stage_progression", message.pk),  # discovery → demo
        ("stage_progression", message.pk),  # discovery → closed won (demo → discovery is not)
    ]
    totals = attributed_totals(start=T - DAY, end=T + DAY)
    assert totals == {
        "meeting_booked": 0.0,
        "opportunity_created": 1.0,
        "stage_progression": 2.0,
        "closed_won": 1.0,
        "revenue": 48000.0,
    }


def test_it_attributes_nothing_to_a_conversion_without_a_touch(scenario, rules):
    contact = scenario.contact()
    scenario.meeting(contact, T)
    assert rebuild() == []


def test_it_recomputes_only_the_range_asked_for(scenario, rules):
    rules.count_deliveries = False
    rules.save()
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=T - 3 * DAY)
    scenario.click(message, T - 3 * DAY)
    early = scenario.meeting(contact, T - 2 * DAY)
    late = scenario.meeting(contact, T)
    rebuild()
    rules.click_window_hours = 24
    rules.save()
    rows = rebuild(start=T - HOUR, end=T + HOUR)
    assert [(kind, message_id) for kind, message_id, *_ in rows] == [("meeting_booked", message.pk)]
    assert list(Attribution.objects.values_list("conversion_id", flat=True)) == [early.pk]
    assert late.pk != early.pk


def test_it_turns_off_what_is_not_attributed(scenario, rules):
    rules.count_deliveries, rules.attribute_meetings = False, False
    rules.save()
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=T - DAY)
    scenario.click(message, T - HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == []
