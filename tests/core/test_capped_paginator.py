"""Big changelists number their pages from a bounded count, never a full-table scan."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.admin import CappedCountPaginator
from tests.factories import ContactFactory

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
