"""Big changelists number their pages from a bounded count, never a full-table scan."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.admin import CappedCountPaginator
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory, EventFactory

pytestmark = pytest.mark.django_db


def test_it_counts_no_further_than_its_cap(admin_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 2)
    ContactFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/contacts/contact/")
    assert response.status_code == 200
    assert response.context["cl"].paginator.count == 2
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 2" in sql.upper() for sql in counts)


@pytest.mark.parametrize("path", ["/admin/contacts/event/", "/admin/sends/outboundmessage/"])
def test_it_pages_the_other_big_tables_the_same_way(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    assert isinstance(response.context["cl"].paginator, CappedCountPaginator)


def test_event_filters_offer_each_type_and_source_without_reading_every_row(admin_client):
    contact = ContactFactory()
    for i, (type_, source) in enumerate(
        [("pricing_view", "web"), ("pricing_view", "crm"), ("demo_request", "web"), ("x", "")]
    ):
        EventFactory(contact=contact, type=type_, source=source, idempotency_key=f"k{i}")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/contacts/event/")
    assert response.status_code == 200
    choices = {
        spec.parameter_name: [lookup for lookup, _ in spec.lookup_choices]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) in ("type", "source")
    }
    assert choices == {"type": ["demo_request", "pricing_view", "x"], "source": ["crm", "web"]}
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]

    filtered = admin_client.get("/admin/contacts/event/", {"type": "pricing_view", "source": "web"})
    assert [event.source for event in filtered.context["cl"].result_list] == ["web"]
    assert filtered.context["cl"].result_list[0].type == "pricing_view"


def test_message_filters_offer_each_reason_and_journey(admin_client, opted_in_contact):
    contact = opted_in_contact()
    for key, reason, journey_id in [("a", "quiet_hours", 7), ("b", "cap", 7), ("c", "", None)]:
        OutboundMessage.objects.create(
            channel="sms", contact=contact, to_address=str(contact.phone), body="Hi",
            category="marketing", origin="journey", send_key=key, reason_code=reason,
            journey_id=journey_id,
        )  # fmt: skip
    response = admin_client.get("/admin/sends/outboundmessage/")
    choices = {
        spec.parameter_name: [lookup for lookup, _ in spec.lookup_choices]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) in ("reason_code", "journey_id")
    }
    assert choices == {"reason_code": ["cap", "quiet_hours"], "journey_id": ["7"]}
    filtered = admin_client.get("/admin/sends/outboundmessage/", {"journey_id": "7"})
    assert sorted(m.send_key for m in filtered.context["cl"].result_list) == ["a", "b"]
