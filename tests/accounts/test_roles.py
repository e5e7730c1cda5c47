"""Each row of DESIGN.md's role table, proven against the groups the migration made."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.accounts.roles import CUE_APPS

pytestmark = pytest.mark.django_db


def permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def all_permissions() -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }


def test_it_creates_exactly_the_six_roles():
    assert set(Group.objects.values_list("name", flat=True)) == {
        "Marketer",
        "Approver",
        "Compliance",
        "Sales rep",
        "Sales manager",
        "Admin",
    }


def test_it_gives_admin_every_permission():
    assert permissions_of(roles.ADMIN) == all_permissions()


def test_it_lets_compliance_read_everything_and_change_nothing():
    granted = permissions_of(roles.COMPLIANCE)
    cue_views = {
        key for key in all_permissions() if key.split(".")[0] in CUE_APPS and ".view_" in key
    }
    assert cue_views <= granted
    content_changes = {
        key for key in granted if any(f".{verb}_" in key for verb in ("add", "change", "delete"))
    }
    assert content_changes == set()


def test_it_never_lets_a_marketer_approve_or_activate():
    granted = permissions_of(roles.MARKETER)
    assert {key for key in granted if ".approve_" in key or ".activate_" in key} == set()
    assert {
        key for key in granted if key.startswith("accounts.") or key.startswith("auth.")
    } == set()


def test_it_keeps_approvers_from_writing_content():
    granted = permissions_of(roles.APPROVER)
    writes = {key for key in granted if ".add_" in key or ".delete_" in key}
    assert writes == set()


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_keeps_sales_away_from_templates_and_journeys(role):
    granted = permissions_of(role)
    assert {key for key in granted if key.split(".")[0] in ("library", "journeys")} == set()
    assert {key for key in granted if ".add_" in key or ".delete_" in key} == set()


def test_it_lets_only_the_sales_manager_reassign():
    holders = {
        role
        for role in roles.ROLES
        if "routing.reassign_followuptask" in roles.ROLE_PERMISSIONS[role] or role == roles.ADMIN
    }
    assert holders == {roles.SALES_MANAGER, roles.ADMIN}


ADMIN_ACCESS = [
    # role, url name, expected status (302 = sent to the admin login page)
    (roles.ADMIN, "admin:index", 200),
    (roles.MARKETER, "admin:index", 200),
    (roles.APPROVER, "admin:index", 200),
    (roles.COMPLIANCE, "admin:index", 200),
    (roles.SALES_REP, "admin:index", 302),
    (roles.SALES_MANAGER, "admin:index", 302),
    (roles.ADMIN, "admin:accounts_user_changelist", 200),
    (roles.ADMIN, "admin:accounts_user_add", 200),
    (roles.COMPLIANCE, "admin:accounts_user_changelist", 200),
    (roles.COMPLIANCE, "admin:accounts_user_add", 403),
    (roles.COMPLIANCE, "admin:accounts_team_changelist", 200),
    (roles.COMPLIANCE, "admin:accounts_team_add", 403),
    (roles.MARKETER, "admin:accounts_user_changelist", 403),
    (roles.MARKETER, "admin:accounts_team_changelist", 403),
    (roles.APPROVER, "admin:accounts_user_changelist", 403),
    (roles.APPROVER, "admin:auth_group_changelist", 403),
    (roles.COMPLIANCE, "admin:django_celery_beat_periodictask_changelist", 200),
    (roles.ADMIN, "admin:django_celery_beat_periodictask_changelist", 200),
    (roles.MARKETER, "admin:django_celery_beat_periodictask_changelist", 403),
]


@pytest.mark.parametrize(("role", "url_name", "expected"), ADMIN_ACCESS)
def test_it_opens_admin_pages_exactly_as_the_role_table_says(
    client, make_user, role, url_name, expected
):
    client.force_login(make_user(role))
    response = client.get(reverse(url_name))
    assert response.status_code == expected


def test_it_shows_compliance_a_user_read_only(client, make_user):
    client.force_login(make_user(roles.COMPLIANCE))
    other = make_user(roles.MARKETER)
    response = client.post(
        reverse("admin:accounts_user_change", args=[other.pk]), {"username": "renamed"}
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.username != "renamed"


@pytest.mark.parametrize("role", roles.ROLES)
def test_it_tells_every_role_who_it_is_through_the_api(make_user, role):
    user = make_user(role)
    api = APIClient()
    api.force_authenticate(user)
    response = api.get(reverse("api:me"))
    assert response.status_code == 200
    assert response.json() == {"username": user.username, "roles": [role]}


def test_it_refuses_the_api_to_anonymous_callers():
    response = APIClient().get(reverse("api:me"))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("role", "is_staff"),
    [
        (roles.ADMIN, True),
        (roles.MARKETER, True),
        (roles.APPROVER, True),
        (roles.COMPLIANCE, True),
        (roles.SALES_REP, False),
        (roles.SALES_MANAGER, False),
    ],
)
def test_it_grants_staff_access_by_role(make_user, role, is_staff):
    user = make_user(role)
    assert (user.is_staff, user.is_superuser) == (is_staff, role == roles.ADMIN)
