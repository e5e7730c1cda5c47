import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in ("sessions", "admin")
    }


def test_it_builds_the_same_workspace_when_run_twice(capsys):
    call_command("seed_demo")
    first = row_counts()
    call_command("seed_demo")
    assert row_counts() == first


def test_it_prints_a_login_for_every_role(capsys):
    call_command("seed_demo")
    printed = capsys.readouterr().out
    for role in ("Admin", "Marketer", "Approver", "Compliance", "Sales rep", "Sales manager"):
        assert role in printed
    assert "cue-demo-2026" in printed


def test_it_lets_each_demo_user_sign_in(client):
    from apps.accounts.demo import DEMO_PASSWORD, DEMO_USERS

    call_command("seed_demo")
    for username, *_ in DEMO_USERS:
        # The sign-in lockout counts attempts per request: authenticate() needs one.
        request = RequestFactory().post("/admin/login/")
        assert client.login(request=request, username=username, password=DEMO_PASSWORD), username
