"""Intent score: weights fade by half-life; bands follow thresholds; recomputed in SQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.contacts.intent import intent_scores_recompute
from apps.contacts.models import Contact, EventWeight
from tests.factories import ContactFactory, EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def weights():
    EventWeight.objects.create(type="pricing_view", weight=10, half_life_days=7)
    EventWeight.objects.create(type="demo_request", weight=40, half_life_days=14)


def scored(contact):
    contact.refresh_from_db()
    return round(contact.intent_score, 3), contact.intent_band


def test_it_halves_an_event_after_its_half_life(weights):
    contact = ContactFactory()
    EventFactory(
        contact=contact, type="pricing_view", occurred_at=timezone.now() - timedelta(days=7)
    )
    intent_scores_recompute(contact_ids=[contact.pk])
    assert scored(contact) == (5.0, "low")


def test_it_sums_weights_and_bands_by_threshold(weights):
    high, medium, low = ContactFactory(), ContactFactory(), ContactFactory()
    now = timezone.now()
    EventFactory(contact=high, type="demo_request", occurred_at=now)
    EventFactory(contact=high, type="pricing_view", occurred_at=now)
    EventFactory(contact=medium, type="pricing_view", occurred_at=now)
    EventFactory(contact=medium, type="pricing_view", occurred_at=now)
    EventFactory(contact=low, type="unweighted_thing", occurred_at=now)
    intent_scores_recompute()
    assert scored(high) == (50.0, "high")
    assert scored(medium) == (20.0, "medium")
    assert scored(low) == (0.0, "low")


def test_it_fades_a_contact_whose_events_aged_out(weights):
    contact = ContactFactory()
    Contact.objects.filter(pk=contact.pk).update(intent_score=45, intent_band="high")
    EventFactory(
        contact=contact, type="pricing_view", occurred_at=timezone.now() - timedelta(days=400)
    )
    intent_scores_recompute()
    assert scored(contact) == (0.0, "low")


def test_it_rescores_only_the_contacts_named(weights):
    touched, untouched = ContactFactory(), ContactFactory()
    for contact in (touched, untouched):
        EventFactory(contact=contact, type="demo_request", occurred_at=timezone.now())
    intent_scores_recompute(contact_ids=[touched.pk])
    assert scored(touched) == (40.0, "high")
    assert scored(untouched) == (0.0, "low")


def test_it_rescores_through_the_event_hand_off(weights, django_capture_on_commit_callbacks):
    from apps.contacts.events import record_event

    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        record_event(
            contact=contact,
            type="demo_request",
            occurred_at=timezone.now(),
            idempotency_key="demo-1",
        )
    assert scored(contact) == (40.0, "high")


def test_it_recomputes_with_a_fixed_number_of_queries(weights, django_assert_num_queries):
    for _ in range(20):
        EventFactory(type="pricing_view", occurred_at=timezone.now())
    # Two UPDATEs, plus the savepoint and its release around them.
    with django_assert_num_queries(4):
        intent_scores_recompute()
