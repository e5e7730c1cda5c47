"""API tokens expire when made with an expiry, are rotated and revoked, and note their last use."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.accounts import roles
from apps.accounts.models import TokenLifetime
from apps.accounts.tokens import token_create, token_revoke, token_rotate

pytestmark = pytest.mark.django_db


def me(client, key: str):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def mia(make_user):
    return make_user(roles.MARKETER, username="mia")


def test_a_token_made_with_an_expiry_works_until_then(client, mia):
    start = timezone.now()
    token = token_create(user=mia, expires_at=start + timedelta(days=30))

    with time_machine.travel(start + timedelta(days=29, hours=23), tick=False):
        before = me(client, token.key)
    with time_machine.travel(start + timedelta(days=30), tick=False):
        after = me(client, token.key)

    assert before.status_code == 200
    assert (after.status_code, after.json()["detail"]) == (401, "Token expired.")


def test_a_token_without_an_expiry_never_expires(client, mia):
    token = token_create(user=mia)

    with time_machine.travel(timezone.now() + timedelta(days=3650)):
        assert me(client, token.key).status_code == 200


def test_a_token_notes_its_last_use_at_most_once_a_minute(client, mia):
    token = token_create(user=mia)
    start = timezone.now().replace(microsecond=0)

    with time_machine.travel(start, tick=False):
        me(client, token.key)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        me(client, token.key)
    first = TokenLifetime.objects.get().last_used_at
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        me(client, token.key)

    assert first == start
    assert TokenLifetime.objects.get().last_used_at == start + timedelta(minutes=2)


def test_a_token_made_before_expiry_existed_gets_its_use_noted(client, mia):
    token = Token.objects.create(user=mia)

    assert me(client, token.key).status_code == 200
    assert TokenLifetime.objects.get(token=token).expires_at is None


def test_rotating_gives_a_new_key_with_the_same_expiry_and_ends_the_old(client, mia):
    expiry = timezone.now() + timedelta(days=7)
    old = token_create(user=mia, expires_at=expiry)

    new = token_rotate(user=mia)

    assert new.key != old.key
    assert TokenLifetime.objects.get(token=new).expires_at == expiry
    assert (me(client, old.key).status_code, me(client, new.key).status_code) == (401, 200)


def test_a_revoked_token_stops_working(client, mia):
    token = token_create(user=mia)

    assert token_revoke(user=mia) == 2  # the token and its lifetime
    assert me(client, token.key).status_code == 401
    assert token_revoke(user=mia) == 0


def test_an_admin_makes_a_token_with_an_expiry_and_sees_its_last_use(admin_client, client, mia):
    response = admin_client.post(
        "/admin/authtoken/tokenproxy/add/",
        {"user": mia.pk, "expires_at": "2099-01-02 03:04:05"},
    )
    token = Token.objects.get(user=mia)
    me(client, token.key)
    listing = admin_client.get("/admin/authtoken/tokenproxy/")

    assert response.status_code == 302
    assert TokenLifetime.objects.get(token=token).expires_at.year == 2099
    assert b"Last used" in listing.content and b"never" not in listing.content
