"""Sign-in lockout (django-axes): wrong passwords lock a username (and a client IP) on the
admin's login page, which is the reps' too; an admin unlocks; every attempt is logged."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from apps.accounts import roles
from tests.browser import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 3
LOCKED_TEXT = b"Too many wrong passwords for this account"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)


def sign_in(client, username: str, password: str, *, next_url="/admin/", ip="203.0.113.9"):
    return client.post(
        f"/admin/login/?next={next_url}",
        {"username": username, "password": password, "next": next_url},
        REMOTE_ADDR=ip,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_once_the_failures_reach_the_limit(client, make_user):
    make_user(roles.MARKETER, username="mia")

    wrong = [sign_in(client, "mia", "guess").status_code for _ in range(LIMIT)]
    right = sign_in(client, "mia", PASSWORD)

    assert wrong == [200, 200, 429]  # the last wrong one already meets the lockout page
    assert (right.status_code, LOCKED_TEXT in right.content) == (429, True)
    assert b"Try again in 0:30:00" in right.content
    assert not signed_in(client)


def test_fewer_failures_than_the_limit_then_the_right_password_signs_in_and_resets(
    client, make_user
):
    make_user(roles.MARKETER, username="mia")

    for _ in range(LIMIT - 1):
        sign_in(client, "mia", "guess")
    response = sign_in(client, "mia", PASSWORD)

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert AccessAttempt.objects.count() == 0  # the count starts again


def test_a_rep_signing_in_for_tasks_is_locked_the_same_way(client, make_user):
    make_user(roles.SALES_REP, username="sam")

    for _ in range(LIMIT):
        sign_in(client, "sam", "guess", next_url="/tasks/")
    response = sign_in(client, "sam", PASSWORD, next_url="/tasks/")

    assert (response.status_code, signed_in(client)) == (429, False)


def test_the_lock_is_on_the_username_from_any_address(client, make_user):
    make_user(roles.MARKETER, username="mia")

    for n in range(LIMIT):
        sign_in(client, "mia", "guess", ip=f"198.51.100.{n}")
    response = sign_in(client, "mia", PASSWORD, ip="192.0.2.200")

    assert response.status_code == 429


def test_one_address_guessing_at_many_usernames_is_locked(client, make_user):
    make_user(roles.MARKETER, username="mia")

    for name in ("ann", "bob", "cat"):
        sign_in(client, name, "guess")
    from_there = sign_in(client, "mia", PASSWORD)
    elsewhere = sign_in(client, "mia", PASSWORD, ip="198.51.100.50")

    assert (from_there.status_code, elsewhere.status_code) == (429, 302)


def test_a_forged_x_forwarded_for_does_not_reset_the_address_count(client, make_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user(roles.MARKETER, username="mia")

    for n in range(LIMIT):
        client.post(
            "/admin/login/",
            {"username": f"user{n}", "password": "guess"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    assert list(AccessFailureLog.objects.values_list("ip_address", flat=True).distinct()) == [
        "203.0.113.9"
    ]
    assert sign_in(client, "mia", PASSWORD).status_code == 429


def test_the_lock_ends_after_the_cool_off(client, make_user):
    make_user(roles.MARKETER, username="mia")
    for _ in range(LIMIT):
        sign_in(client, "mia", "guess")

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = sign_in(client, "mia", PASSWORD)

    assert (response.status_code, signed_in(client)) == (302, True)


def test_an_admin_unlocks_a_locked_out_user(client, admin_client, make_user):
    make_user(roles.MARKETER, username="mia")
    for _ in range(LIMIT):
        sign_in(client, "mia", "guess", ip="198.51.100.1")
    attempt = AccessAttempt.objects.get(username="mia")
    assert "guess" not in attempt.post_data  # the password tried is never kept

    listing = admin_client.get("/admin/axes/accessattempt/")
    unlock = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert (listing.status_code, b"mia" in listing.content) == (200, True)
    assert unlock.status_code == 302
    assert sign_in(client, "mia", PASSWORD, ip="198.51.100.2").status_code == 302


def test_every_attempt_is_logged_with_who_and_from_where(client, make_user):
    make_user(roles.MARKETER, username="mia")

    sign_in(client, "mia", "guess")
    sign_in(client, "mia", PASSWORD)

    failure = AccessFailureLog.objects.get()
    success = AccessLog.objects.get()
    assert (failure.username, failure.ip_address, failure.locked_out) == (
        "mia",
        "203.0.113.9",
        False,
    )
    assert (success.username, success.ip_address) == ("mia", "203.0.113.9")


def test_a_non_staff_user_reads_no_lockout_records(client, make_user):
    client.force_login(make_user(roles.MARKETER))

    assert client.get("/admin/axes/accessattempt/").status_code == 403
