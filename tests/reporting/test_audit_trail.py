"""The consolidated audit trail: who, what, when, why and the values before and after,
across history tables, approvals and the consent ledger; filters, pages, a safe CSV
export, and no way to change anything through it."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.accounts.services import user_role_set
from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.reporting.audit.trail import Cursor, TrailFilters, trail_page
from apps.sends.models import FrequencyCap
from tests.factories import ContactFactory
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen
from tests.sends.templates import approved_sms_version

pytestmark = pytest.mark.django_db

TRAIL = "admin:reporting_audittrail_changelist"
EXPORT = "admin:reporting_audittrail_export"


def cap_change(actor, *, to: int, why: str, at=T):
    with frozen(T - timedelta(days=1)):
        cap = FrequencyCap.objects.get_or_create(
            name="Trail cap",
            defaults={"category": "marketing", "window_hours": 24, "max_messages": 1},
        )[0]
    with frozen(at):
        cap.max_messages, cap._history_user, cap._change_reason = to, actor, why
        cap.save()
    return cap


def entries(**filters):
    return trail_page(filters=TrailFilters(**filters)).entries


def test_it_shows_who_changed_what_when_why_and_the_values_before_and_after(admin_user):
    cap_change(admin_user, to=2, why="Holiday season", at=T)
    cap_change(admin_user, to=3, why="Back to normal", at=T + timedelta(days=1))
    latest, earlier, created = entries(model="sends.frequencycap")
    assert (latest.at, latest.action, latest.who, latest.why, latest.changes) == (
        T + timedelta(days=1), "Changed", admin_user.display_name, "Back to normal",
        [("max_messages", "2", "3")],
    )  # fmt: skip
    assert (earlier.why, earlier.changes) == ("Holiday season", [("max_messages", "1", "2")])
    assert created.action == "Created"
    assert latest.object_url == reverse("admin:sends_frequencycap_change", args=[latest.record.id])


def test_it_shows_role_changes_with_the_roles_before_and_after(make_user, admin_user):
    person = make_user(roles.MARKETER, username="pat")
    user_role_set(user=person, role=roles.APPROVER)
    changes = [e.changes for e in entries(model="accounts.user") if e.record.username == "pat"]
    # groups.set() removes, then adds: two steps, each with its before and after
    assert changes[:2] == [[("groups", "(none)", "Approver")], [("groups", "Marketer", "(none)")]]


def test_it_shows_approvals_and_the_consent_ledger(make_user):
    version = approved_sms_version(name="Trail template")
    approval = version.approvals.get()
    (approved,) = entries(model="library.templateapproval")
    assert (approved.action, approved.who) == (
        "Approved as approver",
        approval.reviewer.display_name,
    )
    contact = ContactFactory()
    booth = Evidence(note="signed up at the booth")
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API,
        evidence=booth,
    )  # fmt: skip
    (ledger,) = entries(contact_id=contact.pk)
    assert ledger.action == "Opted in to SMS marketing via API"
    assert ledger.why == f"address {contact.phone}, note signed up at the booth"
    assert ledger.object_url == reverse("admin:consent_consentrecord_proof", args=[contact.pk])


def test_it_filters_by_model_user_contact_and_date(admin_user, make_user):
    other = make_user(roles.ADMIN, username="root2")
    cap_change(admin_user, to=2, why="first", at=T)
    cap_change(other, to=3, why="second", at=T + timedelta(days=2))
    assert [e.why for e in entries(user_id=other.pk)] == ["second"]
    assert [
        e.why for e in entries(model="sends.frequencycap", since=(T + timedelta(days=1)).date())
    ] == ["second"]
    assert [e.why for e in entries(model="sends.frequencycap", until=T.date())][:1] == ["first"]
    assert entries(contact_id=ContactFactory().pk) == []


def test_it_pages_with_a_cursor_without_repeating_or_skipping(admin_user):
    for n in range(60):
        cap_change(admin_user, to=n + 2, why=f"change {n}", at=T + timedelta(minutes=n))
    first = trail_page(filters=TrailFilters(model="sends.frequencycap"))
    second = trail_page(
        filters=TrailFilters(model="sends.frequencycap"), cursor=Cursor.decode(first.next_cursor)
    )
    seen = [e.pk for e in first.entries] + [e.pk for e in second.entries]
    assert (len(first.entries), len(second.entries), second.next_cursor) == (50, 11, None)
    assert len(set(seen)) == 61


def test_it_reads_a_page_in_a_bounded_number_of_queries(
    admin_user, admin_client, django_assert_max_num_queries
):
    for n in range(60):
        cap_change(admin_user, to=n + 2, why=f"change {n}", at=T + timedelta(minutes=n))
    with django_assert_max_num_queries(45):
        assert admin_client.get(reverse(TRAIL)).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [(roles.COMPLIANCE, 200), (roles.ADMIN, 200), (roles.MARKETER, 403), (roles.APPROVER, 403)],
)
def test_it_opens_for_compliance_and_admin_only(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get(reverse(TRAIL)).status_code == status
    assert client.get(reverse(EXPORT)).status_code == status


@pytest.mark.parametrize("role", [roles.COMPLIANCE, roles.ADMIN])
def test_it_refuses_any_post_and_changes_nothing(client, make_user, admin_user, role):
    cap = cap_change(admin_user, to=2, why="kept")
    client.force_login(make_user(role))
    before = cap.history.count()
    for url in (reverse(TRAIL), reverse(EXPORT)):
        assert (
            client.post(url, {"max_messages": 9, "history_change_reason": "x"}).status_code == 405
        )
    assert client.get(reverse("admin:reporting_audittrail_add")).status_code == 403
    cap.refresh_from_db()
    assert (cap.max_messages, cap.history.count()) == (2, before)


def test_it_filters_the_page_from_the_query_string(client, make_user, admin_user):
    cap_change(admin_user, to=2, why="Visible change")
    client.force_login(make_user(roles.COMPLIANCE))
    page = client.get(reverse(TRAIL), {"model": "sends.frequencycap", "user": admin_user.pk})
    assert page.status_code == 200
    assert [e.why for e in page.context["page"].entries] == ["Visible change"]  # by admin only
    empty = client.get(reverse(TRAIL), {"model": "library.templateapproval"})
    assert empty.context["page"].entries == []


def test_it_exports_csv_that_no_spreadsheet_runs_as_a_formula(client, make_user, admin_user):
    cap_change(admin_user, to=2, why='=HYPERLINK("http://evil.example","x")')
    client.force_login(make_user(roles.COMPLIANCE))
    response = client.get(reverse(EXPORT), {"model": "sends.frequencycap"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["at", "model", "object", "action", "who", "why", "contact_id", "changes"]
    assert rows[1][5] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][7] == "max_messages: 1 → 2"
