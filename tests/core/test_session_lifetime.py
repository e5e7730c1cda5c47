"""A signed-in session ends after SESSION_IDLE_MINUTES idle and SESSION_MAX_HOURS in all."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts import roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_MAX_HOURS = 8


@pytest.fixture
def signed_in(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    return client


def at(start, **delta):
    return time_machine.travel(start + timedelta(**delta), tick=False)


def test_a_session_used_within_the_idle_time_goes_on(signed_in):
    start = timezone.now()
    statuses = []
    for minutes in (0, 29, 58, 87):
        with at(start, minutes=minutes):
            statuses.append(signed_in.get("/admin/").status_code)

    assert statuses == [200, 200, 200, 200]


def test_an_idle_session_ends_and_sends_the_user_to_sign_in(signed_in):
    start = timezone.now()
    with at(start):
        signed_in.get("/admin/")
    with at(start, minutes=31):
        response = signed_in.get("/admin/contacts/contact/")

    assert (response.status_code, response["Location"]) == (
        302,
        "/admin/login/?next=/admin/contacts/contact/",
    )
    assert "_auth_user_id" not in signed_in.session


def test_a_busy_session_still_ends_after_its_lifetime(signed_in):
    start = timezone.now()
    statuses = []
    for minutes in range(0, 8 * 60 + 21, 20):
        with at(start, minutes=minutes):
            statuses.append(signed_in.get("/admin/").status_code)

    assert statuses[-2:] == [200, 302]
    assert set(statuses[:-1]) == {200}


def test_the_api_answers_401_to_an_ended_session(signed_in):
    start = timezone.now()
    with at(start):
        signed_in.get("/api/v1/me/")
    with at(start, minutes=45):
        response = signed_in.get("/api/v1/me/")

    assert (response.status_code, response.json()) == (
        401,
        {"detail": "Your session has ended; sign in again."},
    )


def test_zero_turns_the_limits_off(signed_in, settings):
    settings.SESSION_IDLE_MINUTES = settings.SESSION_MAX_HOURS = 0
    start = timezone.now()
    with at(start):
        signed_in.get("/admin/")
    with at(start, days=13):  # the cookie's own age (14 days with no lifetime) still holds
        assert signed_in.get("/admin/").status_code == 200


def test_an_anonymous_visitor_is_not_touched(client):
    assert client.get("/optin/nothing/").status_code == 404
    assert dict(client.session) == {}
