"""Finding a contact by phone (every inbound text) or email (event intake) reads an index,
never the whole table: at a million contacts a scan costs tens of milliseconds a request."""

import pytest
from django.db import connection

from apps.contacts.models import Contact

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="reads SQLite's query plan (EXPLAIN QUERY PLAN)"
    ),
]


@pytest.mark.parametrize(
    "contacts",
    [
        Contact.objects.filter(phone="+14155550123"),
        Contact.objects.filter(email__in=["ann@example.com", "Ann@example.com"]),
        Contact.objects.filter(external_id__in=["crm-1"]),
    ],
    ids=["phone", "email", "external_id"],
)
def test_a_lookup_by_a_contact_key_uses_an_index(contacts):
    sql, params = contacts.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]
    assert [step for step in plan if step.startswith("SCAN")] == [], plan
    assert any("USING INDEX" in step for step in plan), plan
