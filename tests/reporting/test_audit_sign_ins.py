"""Compliance's trail stays quiet: a sign-in is no change (it leaves no history row and the
trail shows none), it is listed in a sign-ins view of its own (who, when, from which address,
signed in or failed); rows name people and contacts as people do; filters take names."""

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.urls import reverse

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.reporting.audit.trail import TrailFilters, trail_page
from tests.browser import PASSWORD
from tests.factories import ContactFactory
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen
from tests.reporting.test_audit_trail import TRAIL, cap_change
from tests.sends.templates import approved_sms_version

pytestmark = pytest.mark.django_db

SIGN_INS = "admin:reporting_audittrail_signins"


def sign_in(client, username: str, password: str, ip: str = "203.0.113.9"):
    return client.post(
        "/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def entries(**filters):
    return trail_page(filters=TrailFilters(**filters)).entries


def test_a_sign_in_leaves_no_history_row_and_no_trail_entry(client, make_user):
    mia = make_user(roles.MARKETER, username="mia", first_name="Mia", last_name="Lund")
    rows_before = mia.history.count()
    trail_before = [e.pk for e in entries(model="accounts.user")]

    response = sign_in(client, "mia", PASSWORD)

    mia.refresh_from_db()
    assert (response.status_code, mia.last_login is not None) == (302, True)
    assert mia.history.count() == rows_before
    assert [e.pk for e in entries(model="accounts.user")] == trail_before


def test_a_save_that_changes_no_tracked_field_is_not_shown_as_a_change(admin_user):
    cap = cap_change(admin_user, to=2, why="real change", at=T)
    with frozen(T + timedelta(hours=1)):
        cap.save()  # nothing changed: a history row, but no change to show

    assert cap.history.count() == 3
    assert [e.action for e in entries(model="sends.frequencycap")] == ["Changed", "Created"]


def test_the_sign_ins_view_lists_who_when_where_and_failures(client, make_user):
    make_user(roles.MARKETER, username="mia", first_name="Mia", last_name="Lund")
    sign_in(client, "mia", "wrong-guess", ip="198.51.100.7")
    sign_in(client, "mia", PASSWORD, ip="203.0.113.9")
    client.logout()
    client.force_login(make_user(roles.COMPLIANCE, username="carol"))

    page = client.get(reverse(SIGN_INS), {"username": "mia"})

    rows = [
        (s.who, s.username, s.ip_address, s.succeeded, s.detail) for s in page.context["sign_ins"]
    ]
    assert rows == [
        ("Mia Lund", "mia", "203.0.113.9", True, "signed out " + _logout_of("mia")),
        ("Mia Lund", "mia", "198.51.100.7", False, "wrong password"),
    ]
    assert b"Signed in" in page.content and b"Failed" in page.content


def _logout_of(username: str) -> str:
    return f"{AccessLog.objects.get(username=username).logout_time:%Y-%m-%d %H:%M}"


def test_the_sign_ins_view_filters_by_outcome(client, make_user):
    make_user(roles.MARKETER, username="mia")
    sign_in(client, "mia", "wrong-guess")
    sign_in(client, "mia", PASSWORD)
    client.force_login(make_user(roles.COMPLIANCE))

    failed = client.get(reverse(SIGN_INS), {"outcome": "failure"}).context["sign_ins"]

    assert [(s.username, s.succeeded) for s in failed] == [("mia", False)]
    assert AccessFailureLog.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [(roles.COMPLIANCE, 200), (roles.ADMIN, 200), (roles.MARKETER, 403), (roles.APPROVER, 403)],
)
def test_the_sign_ins_view_opens_for_compliance_and_admin_only(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get(reverse(SIGN_INS)).status_code == status


def test_compliance_reads_the_axes_logs_and_changes_none(make_user):
    carol = make_user(roles.COMPLIANCE)
    assert [carol.has_perm(f"axes.{p}") for p in ("view_accesslog", "view_accessfailurelog")] == [
        True,
        True,
    ]
    others = ("view_accessattempt", "delete_accessattempt", "change_accesslog")
    assert [carol.has_perm(f"axes.{p}") for p in others] == [False, False, False]


def priya():
    return ContactFactory(first_name="Priya", last_name="Natarajan", phone="+13125550142")


def test_rows_name_contacts_people_and_template_versions(make_user):
    contact = priya()
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API,
        evidence=Evidence(note="booth"),
    )  # fmt: skip
    approved_sms_version(name="Trail template")
    make_user(roles.MARKETER, username="pat", first_name="Pat", last_name="Lee")

    (ledger,) = entries(contact_id=contact.pk)
    (approval,) = entries(model="library.templateapproval")
    users = [e.object_label for e in entries(model="accounts.user")]

    assert ledger.object_label == "Consent of Priya Natarajan (+1••••••••42)"
    assert approval.object_label == "Trail template v1"
    assert approval.who == approval.record.reviewer.display_name
    assert "User: Pat Lee" in users
    assert not any("#" in label for label in users)


def test_the_contact_filter_takes_a_name_or_a_number(client, make_user):
    contact = priya()
    ContactFactory(first_name="Priyanka", last_name="Rao")
    consent_opt_in(
        contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING, source=ConsentSource.API,
    )  # fmt: skip
    client.force_login(make_user(roles.COMPLIANCE))

    by_name = client.get(reverse(TRAIL), {"contact": "Priya Natarajan"})
    by_number = client.get(reverse(TRAIL), {"contact": "(312) 555-0142"})
    several = client.get(reverse(TRAIL), {"contact": "Priya"})
    nobody = client.get(reverse(TRAIL), {"contact": "Zed Nobody"})

    for page in (by_name, by_number):
        assert [e.object_label for e in page.context["page"].entries] == [
            "Consent of Priya Natarajan (+1••••••••42)"
        ]
        assert b"Only what concerns Priya Natarajan" in page.content
    assert several.context["form"].errors["contact"] == [
        "Several contacts match “Priya”: type the full name, email or phone number."
    ]
    assert nobody.context["form"].errors["contact"] == ["No contact matches “Zed Nobody”."]


def test_template_history_shows_an_empty_link_as_none(admin_client):
    version = approved_sms_version(name="History template")

    page = admin_client.get(
        reverse("admin:library_messagetemplate_history", args=[version.template_id])
    )

    assert page.status_code == 200
    assert b"pk=None" not in page.content
    assert b"History template v1" in page.content
