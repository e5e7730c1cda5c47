"""Reporting reads go to the replica when DATABASE_REPLICA_URL is set (here a mirror of the
test database): dashboards, exports and audits read there, writes never go there, and
nothing else reads there."""

from datetime import date

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from apps.contacts.models import Contact
from apps.core.db_router import replica_reads, replica_rows
from apps.reporting.audit.signins import SignInFilters, sign_ins_recent
from apps.reporting.selectors import DashboardFilters, dashboard

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    settings.DATABASE_REPLICA_URL = "mirror of the test database"


def queries_on_each(read):
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        read()
    return len(default.captured_queries) > 0, len(replica.captured_queries) > 0


def test_reporting_reads_go_to_the_replica_and_others_stay_on_default(replica):
    filters = DashboardFilters(start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert queries_on_each(lambda: dashboard(filters)) == (False, True)
    assert queries_on_each(lambda: sign_ins_recent(filters=SignInFilters())) == (False, True)
    assert queries_on_each(lambda: list(Contact.objects.all())) == (True, False)


def test_writes_inside_a_report_go_to_default_and_a_streamed_export_reads_on_the_replica(
    replica,
):
    with replica_reads():
        contact = Contact.objects.create(first_name="Ada", phone="+13125550100")
        assert Contact.objects.all().db == "replica"
    assert contact._state.db == "default"
    assert Contact.objects.all().db == "default"
    rows = replica_rows(Contact.objects.values_list("first_name", flat=True))
    # The export's rows are read while the response streams, after its view returned
    assert queries_on_each(lambda: list(rows)) == (False, True)


def test_without_a_replica_url_every_read_stays_on_default():
    with replica_reads():
        assert Contact.objects.all().db == "default"
