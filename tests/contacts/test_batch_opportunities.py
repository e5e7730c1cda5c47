"""contacts' batch writers for opportunities and companies (a CRM sync page at once): the
services' rules hold for every item, a bad item is refused alone, and nothing unchanged is
written again."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.contacts.batch_companies import CompanyWrite, companies_write_many
from apps.contacts.batch_opportunities import OpportunityWrite, opportunities_write_many
from apps.contacts.models import (
    AttributeDefinition,
    Company,
    Event,
    EventType,
    Opportunity,
    OpportunityStageChange,
    Pipeline,
)
from apps.contacts.services import opportunity_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def sales() -> int:
    return Pipeline.objects.get(key="sales").pk


def write(opportunity=None, moves=None, **fields) -> OpportunityWrite:
    moves = moves or [(sales(), "discovery", T0), (sales(), "demo", T0 + timedelta(days=2))]
    return OpportunityWrite(opportunity, {"name": "Renewal", **fields}, moves)


def test_it_creates_each_deal_with_every_move_at_the_sources_times_and_one_event_each():
    ada = ContactFactory()
    closing = [
        (sales(), "discovery", T0),
        (sales(), "closed_won", T0 + timedelta(days=5)),
    ]

    results = opportunities_write_many(
        [write(contact_id=ada.pk, amount="1200"), write(moves=closing, name="Won")],
        event_source="crm",
        reason="test",
    )

    assert [(r.created, r.refused) for r in results] == [(True, ""), (True, "")]
    renewal, won = (Opportunity.objects.get(pk=r.opportunity.pk) for r in results)
    assert (renewal.stage, renewal.stage_changed_at, renewal.opened_at) == (
        "demo", T0 + timedelta(days=2), T0,
    )  # fmt: skip
    assert renewal.closed_at is None and renewal.amount == 1200
    assert (won.stage, won.closed_at) == ("closed_won", T0 + timedelta(days=5))
    moves = OpportunityStageChange.objects.filter(opportunity=renewal)
    assert list(moves.values_list("from_stage", "to_stage", "changed_at")) == [
        ("", "discovery", T0),
        ("discovery", "demo", T0 + timedelta(days=2)),
    ]
    events = Event.objects.filter(contact=ada).order_by("occurred_at", "id")
    assert [(e.type, e.occurred_at, e.properties.get("to")) for e in events] == [
        (EventType.OPPORTUNITY_CREATED, T0, None),
        (EventType.STAGE_CHANGED, T0, "discovery"),
        (EventType.STAGE_CHANGED, T0 + timedelta(days=2), "demo"),
    ]
    assert not Event.objects.exclude(contact=ada).exists()  # the deal without a contact
    assert Opportunity.history.count() == 2


def test_a_bad_item_is_refused_with_its_reason_and_the_others_are_kept():
    results = opportunities_write_many(
        [
            write(name="x" * 201),
            write(moves=[(sales(), "no_such_stage", T0)]),
            write(currency="dollars"),
            write(name="Good"),
        ],
        event_source="crm",
        reason="test",
    )

    assert [bool(r.refused) for r in results] == [True, True, True, False]
    assert "200 characters" in results[0].refused
    assert results[1].refused == "'no_such_stage' is not a stage of the opportunity's pipeline."
    assert "three-letter" in results[2].refused
    assert list(Opportunity.objects.values_list("name", flat=True)) == ["Good"]
    assert OpportunityStageChange.objects.count() == 2


def test_an_unknown_attribute_refuses_the_item_and_a_known_one_is_kept():
    AttributeDefinition.objects.create(
        object_type="opportunity", key="seats", label="Seats", type="number"
    )
    good, bad = write(), write()
    good.attributes, bad.attributes = {"seats": 12}, {"colour": "red"}

    results = opportunities_write_many([good, bad], event_source="crm", reason="test")

    assert results[0].opportunity.attributes == {"seats": 12}
    assert "colour" in results[1].refused
    assert Opportunity.objects.count() == 1


def test_writing_the_same_deals_again_writes_nothing():
    first = opportunities_write_many([write(amount="10")], event_source="crm", reason="test")
    opportunity = first[0].opportunity
    counts = (
        Opportunity.history.count(), OpportunityStageChange.objects.count(), Event.objects.count(),
    )  # fmt: skip

    again = opportunities_write_many(
        [write(opportunity, amount="10.00")], event_source="crm", reason="test"
    )

    assert (again[0].created, again[0].changed, again[0].refused) == (False, False, "")
    assert (
        Opportunity.history.count(), OpportunityStageChange.objects.count(), Event.objects.count(),
    ) == counts  # fmt: skip


def test_a_move_older_than_a_known_deals_stage_is_placed_in_its_history_not_made_current():
    opportunity = opportunity_create(name="Renewal", stage="proposal", stage_changed_at=T0)
    older = [(sales(), "demo", T0 - timedelta(days=3)), (sales(), "proposal", T0)]

    result = opportunities_write_many(
        [write(opportunity, moves=older)], event_source="crm", reason="test"
    )[0]

    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.stage_changed_at) == ("proposal", T0)
    history = opportunity.stage_changes.values_list("from_stage", "to_stage", "changed_at")
    assert list(history) == [
        ("", "demo", T0 - timedelta(days=3)),
        ("demo", "proposal", T0),
    ]
    assert result.changed is False  # its stage is as it was: the move is history


def test_companies_are_written_at_once_and_a_rewrite_of_the_same_values_writes_nothing():
    results = companies_write_many(
        [
            CompanyWrite(None, {"name": "Acme", "employee_count": "12"}, {}),
            CompanyWrite(None, {"name": ""}, {}),
            CompanyWrite(None, {"name": "Globex", "domain": None}, {}),
        ],
        reason="test",
    )

    assert [(r.created, bool(r.refused)) for r in results] == [
        (True, False), (False, True), (True, False),
    ]  # fmt: skip
    assert "blank" in results[1].refused
    acme = Company.objects.get(name="Acme")
    assert acme.employee_count == 12
    history = Company.history.count()

    again = companies_write_many(
        [
            CompanyWrite(acme, {"name": "Acme", "employee_count": 12}, {}),
            CompanyWrite(results[2].company, {"name": "Globex", "domain": None}, {}),
        ],
        reason="test",
    )

    assert [(r.created, r.changed) for r in again] == [(False, False), (False, False)]
    assert Company.history.count() == history
