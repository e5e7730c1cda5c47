"""Audit history can be read in the admin but never reverted or edited through it."""

import pytest
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.accounts import roles
from apps.core.admin import HistoryAdmin
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_it_uses_the_read_only_history_admin_everywhere():
    history_admins = [a for a in admin.site._registry.values() if isinstance(a, SimpleHistoryAdmin)]
    assert history_admins
    assert [type(a).__name__ for a in history_admins if not isinstance(a, HistoryAdmin)] == []


@pytest.mark.parametrize("role", [roles.COMPLIANCE, roles.ADMIN])
def test_it_refuses_a_post_to_a_history_page_and_changes_nothing(client, make_user, role):
    company = CompanyFactory(name="Acme")
    company.name = "Acme Logistics"
    company.save()
    first = company.history.order_by("history_id").first()
    client.force_login(make_user(role))
    url = f"/admin/contacts/company/{company.pk}/history/{first.history_id}/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Hacked", "domain": "x.example", "country": "US"})
    assert response.status_code == 403
    company.refresh_from_db()
    assert company.name == "Acme Logistics"
