"""The admin index is the dashboard: who sees it, the numbers it shows (read from rollups),
its charts and its CSV export; and the other reporting pages in the admin."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.accounts import roles
from apps.core.queue import QUEUE_DOWN
from apps.reporting.models import AuditCheck, AuditReport, DailyRollup
from apps.reporting.selectors import DashboardFilters, dashboard
from apps.reporting.services.rollups import reporting_refresh
from tests.brokers import broker_down
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
RANGE = {"start": (T - DAY).date().isoformat(), "end": (T + DAY).date().isoformat()}


@pytest.fixture
def traffic(scenario, rules):
    """Four messages sent, three delivered and one clicked, one STOP, a meeting."""
    rules.count_deliveries = False
    rules.save()
    people = [scenario.contact() for _ in range(4)]
    messages = [
        scenario.message(person, sent_at=T + n * HOUR, delivered_at=T + n * HOUR if n else None)
        for n, person in enumerate(people)
    ]
    scenario.click(messages[1], T + 2 * HOUR)
    scenario.stop(messages[3], T + 4 * HOUR)
    scenario.meeting(people[1], T + 5 * HOUR)
    with frozen(T + DAY):
        reporting_refresh()
    return messages


@pytest.mark.parametrize(
    ("role", "sees"),
    [(roles.MARKETER, True), (roles.APPROVER, True), (roles.COMPLIANCE, True), (roles.ADMIN, True)],
)
def test_it_shows_the_dashboard_to_the_roles_that_read_reports(
    client, make_user, traffic, role, sees
):
    client.force_login(make_user(role))
    page = client.get(reverse("admin:index"), RANGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert ('id="cue-dashboard"' in html) is sees
    assert 'class="cue-chart cue-funnel"' in html
    assert 'id="kpi-sent">4<' in html
    assert 'id="kpi-opt-outs">25.00%<' in html
    assert 'id="kpi-meetings">1<' in html
    assert "app-reporting" in html or 'id="content-main"' in html  # the app list stays below
    # The index view builds the dashboard, as a page's view builds its context
    assert 'id="cue-dashboard"' in page.context["dashboard"]


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_keeps_sales_roles_out_of_the_admin(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(reverse("admin:index")).status_code == 302


def test_it_reads_the_same_figures_as_the_rollups(traffic):
    report = dashboard(DashboardFilters(start=(T - DAY).date(), end=(T + DAY).date()))
    shown = ("sent", "delivered", "human_clicks", "opt_outs")
    assert {name: report.totals.values[name] for name in shown} == {
        "sent": 4, "delivered": 3, "human_clicks": 1, "opt_outs": 1,
    }  # fmt: skip
    assert report.totals.values["sent"] == sum(DailyRollup.objects.values_list("sent", flat=True))
    assert [(row.label, row.figures.values["sent"]) for row in report.rows] == [("Webinar", 4)]
    assert [name for name, *_ in report.template_opt_outs] == ["Webinar reminder"]


def test_it_renders_the_index_from_rollups_in_a_few_queries(
    admin_client, traffic, django_assert_max_num_queries
):
    with django_assert_max_num_queries(26):
        admin_client.get(reverse("admin:index"), RANGE)


def test_it_escapes_names_in_charts_and_tables(admin_client, traffic, scenario):
    scenario.journey.name = '<script>alert("x")</script>'
    scenario.journey.save()
    template = scenario.versions[0].template
    template.name = "<img src=x onerror=alert(1)>"
    template.save()
    html = admin_client.get(reverse("admin:index"), RANGE).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_exports_the_table_as_formula_safe_csv(admin_client, traffic, scenario):
    scenario.journey.name = "=cmd|' /C calc'!A0"
    scenario.journey.save()
    response = admin_client.get(reverse("admin:reporting_dailyrollup_export"), RANGE)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Disposition"] == (
        'attachment; filename="cue-journeys-2026-03-09-2026-03-11.csv"'
    )
    assert rows[0][:4] == ["journey", "enrolled", "holdout", "sent"]
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    assert rows[1][3] == "4"


def test_it_exports_every_attributed_conversion(admin_client, traffic):
    response = admin_client.get(reverse("admin:reporting_attribution_export"), RANGE)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row[0], row[5], row[6], row[12]) for row in rows[1:]] == [
        ("meeting_booked", str(traffic[1].pk), "click", "1.0")
    ]


def test_it_lets_compliance_run_the_audit_on_demand(
    client, make_user, traffic, django_capture_on_commit_callbacks
):
    carol = make_user(roles.COMPLIANCE)
    client.force_login(carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:reporting_auditreport_run"), RANGE)
    assert response.status_code == 302
    report = AuditReport.objects.get()
    assert (report.trigger, report.requested_by) == ("on_demand", carol)
    assert sorted(report.findings.values_list("check_name", flat=True)) == sorted(AuditCheck)
    page = client.get(reverse("admin:reporting_auditreport_change", args=[report.pk]))
    assert 'id="finding-no_consent"' in page.content.decode()


def test_it_keeps_marketers_from_audits(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    assert client.post(reverse("admin:reporting_auditreport_run"), RANGE).status_code == 403
    assert client.get(reverse("admin:reporting_auditreport_changelist")).status_code == 403
    assert client.get(reverse("admin:reporting_retentionrun_changelist")).status_code == 403
    assert client.get(reverse("admin:reporting_attribution_changelist")).status_code == 200


def test_it_recomputes_attribution_for_the_range_an_admin_asks_for(
    admin_client, traffic, rules, django_capture_on_commit_callbacks
):
    assert DailyRollup.objects.filter(meetings__gt=0).count() == 1
    rules.attribute_meetings = False
    rules.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:reporting_attribution_recompute"), RANGE)
    assert response.status_code == 302
    assert DailyRollup.objects.filter(meetings__gt=0).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "data", "back_to"),
    [
        ("admin:reporting_attribution_recompute", RANGE, "admin:reporting_attribution_changelist"),
        ("admin:reporting_auditreport_run", RANGE, "admin:reporting_auditreport_changelist"),
    ],
)
def test_it_says_so_when_the_task_queue_is_down(admin_client, url, data, back_to):
    with broker_down():
        response = admin_client.post(reverse(url), data)
    assert (response.status_code, response.url) == (302, reverse(back_to))
    assert [str(m) for m in get_messages(response.wsgi_request)] == [QUEUE_DOWN]
    assert AuditReport.objects.count() == 0
